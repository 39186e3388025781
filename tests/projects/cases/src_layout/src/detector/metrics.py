def pck(predicted, target, threshold=0.1):
    """Share of keypoints whose heatmap peak lands within ``threshold`` of the target's."""
    size = predicted.shape[-1]
    pred_peak = predicted.flatten(2).argmax(-1)
    true_peak = target.flatten(2).argmax(-1)
    dy = (pred_peak // size - true_peak // size).float()
    dx = (pred_peak % size - true_peak % size).float()
    return ((dx**2 + dy**2).sqrt() / size < threshold).float().mean().item()
