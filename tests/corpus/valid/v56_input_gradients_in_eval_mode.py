"""Models interpretability code that calls ``backward()`` with the model in eval mode on purpose.

Gradients are taken with respect to the *input* or to activations, never to train the network:
vanilla saliency (``model.eval(); X.requires_grad_(); scores.backward(...); X.grad.abs()`` —
facebookresearch/TorchRay examples/gradient_manual.py, andrasschin/idlcv-hotdog
calculate_saliency_map.py, the widespread CS231n ``compute_saliency_maps``), class visualisation
by gradient ascent on the image, Grad-CAM with forward/backward hooks
(jacobgil/pytorch-grad-cam pytorch_grad_cam/base_cam.py) and DeepDream-style optimisation of an
image with ``torch.optim.Adam([image])``. The script also trains the classifier it explains;
the explanation functions never step a model parameter. Original code.
"""

import torch
import torch.nn.functional as F


def compute_saliency_maps(X, y, model):
    model.eval()
    X = X.clone().requires_grad_()
    scores = model(X).gather(1, y.view(-1, 1)).squeeze()
    scores.backward(torch.ones_like(scores))
    saliency, _ = torch.max(X.grad.abs(), dim=1)
    return saliency


def class_visualization(model, target_y, img, steps=100, l2_reg=1e-3, learning_rate=25.0):
    model.eval()
    img = img.clone().requires_grad_()
    for _ in range(steps):
        scores = model(img)
        objective = scores[:, target_y] - l2_reg * img.square().sum()
        objective.backward()
        with torch.no_grad():
            img += learning_rate * img.grad / img.grad.norm()
            img.grad.zero_()
    return img.detach()


def grad_cam(model, target_layer, image, class_idx):
    model.eval()
    activations, gradients = [], []
    forward_handle = target_layer.register_forward_hook(lambda m, i, o: activations.append(o))
    backward_handle = target_layer.register_full_backward_hook(lambda m, gi, go: gradients.append(go[0]))
    logits = model(image)
    model.zero_grad()
    logits[:, class_idx].sum().backward()
    forward_handle.remove()
    backward_handle.remove()
    weights = gradients[0].mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * activations[0]).sum(dim=1))
    return cam / (cam.amax(dim=(1, 2), keepdim=True) + 1e-8)


def deep_dream(model, image, layer, steps=20, lr=0.05):
    model.eval()
    captured = []
    handle = layer.register_forward_hook(lambda m, i, o: captured.append(o))
    image = image.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([image], lr=lr)
    for _ in range(steps):
        captured.clear()
        optimizer.zero_grad()
        model(image)
        loss = -captured[0].norm()
        loss.backward()
        optimizer.step()
    handle.remove()
    return image.detach().clamp(0, 1)


class LayerCAM:
    def __init__(self, model, target_layer):
        self.model = model.eval()
        self.activations, self.gradients = [], []
        target_layer.register_forward_hook(lambda m, i, o: self.activations.append(o))
        target_layer.register_full_backward_hook(lambda m, gi, go: self.gradients.append(go[0]))

    def __call__(self, input_tensor, targets):
        self.activations.clear()
        self.gradients.clear()
        outputs = self.model(input_tensor)
        self.model.zero_grad()
        loss = outputs.gather(1, targets.view(-1, 1)).sum()
        loss.backward(retain_graph=True)
        cam = F.relu(self.gradients[0] * self.activations[0]).sum(dim=1)
        return cam.detach()


def train_then_explain(model, loader, images, labels, epochs=5):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for _ in range(epochs):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
    return compute_saliency_maps(images, labels, model)
