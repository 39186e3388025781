"""Models ``with torch.no_grad:`` (no parentheses) around a prediction loop in a demo script.

Real pattern: the context-manager typo that raises "TypeError: 'type' object does not support the
context manager protocol" (older releases: AttributeError: __enter__) as soon as the ``with`` is
reached, here in the predict function of a small web demo. Only TM203 is expected: the body
never runs, and adding the parentheses also disables autograd for the forward below, so a
separate "records gradients" finding would only repeat the same fix. Original code.
"""

import io

import torch
import torchvision
from PIL import Image
from torchvision import transforms

LABELS = ["cat", "dog"]
PREPROCESS = transforms.Compose([
    transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])


def load_model(weights="cats_vs_dogs.pt"):
    model = torchvision.models.resnet18(num_classes=len(LABELS))
    model.load_state_dict(torch.load(weights, map_location="cpu"))
    model.eval()
    return model


def predict(model, image_bytes_list, top_k=1):
    batch = torch.stack([PREPROCESS(Image.open(io.BytesIO(b)).convert("RGB")) for b in image_bytes_list])
    results = []
    with torch.no_grad:  # expect: TM203
        probabilities = model(batch).softmax(dim=1)
        scores, indices = probabilities.topk(top_k, dim=1)
        for row_scores, row_indices in zip(scores.tolist(), indices.tolist()):
            results.append([(LABELS[i], round(s, 4)) for s, i in zip(row_scores, row_indices)])
    return results


if __name__ == "__main__":
    demo_model = load_model()
    with open("example.jpg", "rb") as handle:
        print(predict(demo_model, [handle.read()]))
