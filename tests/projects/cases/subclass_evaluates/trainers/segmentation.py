from trainers.base import BaseTrainer


def dice(pred, target, eps=1e-6):
    inter = (pred * target).sum()
    return (2 * inter + eps) / (pred.sum() + target.sum() + eps)


class SegmentationTrainer(BaseTrainer):
    def evaluate(self, loader):
        total, batches = 0.0, 0
        for images, masks in loader:
            probs = self.model(images).sigmoid()
            total += dice((probs > 0.5).float(), masks).item()
            batches += 1
        return total / max(batches, 1)
