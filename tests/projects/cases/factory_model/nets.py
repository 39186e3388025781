import torch.nn as nn


class Counter(nn.Module):
    """Counts objects in an image: a convolutional body and a density head."""

    def __init__(self, body):
        super().__init__()
        self.body = body
        self.head = nn.Sequential(nn.Conv2d(64, 1, 1), nn.Dropout(0.2))

    def forward(self, x):
        return self.head(self.body(x))


def conv_stack(widths):
    layers, channels = [], 3
    for width in widths:
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
        channels = width
    return nn.Sequential(*layers)


def counter(pretrained_body=None):
    net = Counter(conv_stack([64, 64]))
    if pretrained_body is not None:
        net.body.load_state_dict(pretrained_body, strict=False)
    return net


def frozen_counter(weights):
    net = Counter(conv_stack([64, 64]))
    net.load_state_dict(weights)
    net.eval()
    return net
