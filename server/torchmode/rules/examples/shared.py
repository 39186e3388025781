"""Example programs that show more than one rule's behaviour (each rule's examples quote them)."""

# A tutorial script: a validation pass over the validation loader in every epoch, then a test
# pass, neither with eval() nor no_grad (TM102 and TM201 report both passes).
TUTORIAL_SCRIPT = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 2)
        self.dropout = nn.Dropout(0.25)

    def forward(self, x):
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


model = Net()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(1, 31):
    train_loss = 0.0
    valid_loss = 0.0
    for data, target in train_loader:
        optimizer.zero_grad()
        output = model(data)
        loss = criterion(output, target)
        loss.backward()
        optimizer.step()
        train_loss += loss.item() * data.size(0)
    for data, target in valid_loader:
        output = model(data)
        loss = criterion(output, target)
        valid_loss += loss.item() * data.size(0)
    print(epoch, train_loss, valid_loss)

test_loss = 0.0
for data, target in test_loader:
    output = model(data)
    loss = criterion(output, target)
    test_loss += loss.item() * data.size(0)
"""

# One function trains or evaluates, the same flag choosing the mode, the grad mode and whether
# to step (linear evaluation of self-supervised features): TM101 and TM202 report nothing.
TRAIN_OR_EVALUATE = """\
import torch
import torch.nn.functional as F


def run_epoch(net, loader, optimizer=None):
    # one pass over `loader`: training when given an optimizer, evaluation otherwise
    training = optimizer is not None
    net.train() if training else net.eval()
    total = 0.0
    with (torch.enable_grad() if training else torch.no_grad()):
        for x, y in loader:
            loss = F.cross_entropy(net(x), y)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total += loss.item()
    return total


def fit(net, train_loader, val_loader, epochs):
    optimizer = torch.optim.Adam(net.parameters())
    for epoch in range(epochs):
        run_epoch(net, train_loader, optimizer)
        run_epoch(net, val_loader)
"""

# A model's file that checks its output shape: a test() run under __main__ builds the model
# and runs it once on random input (random weights: neither the mode nor the graph matters).
MODEL_FILE_SHAPE_TEST = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class TinyResNet(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.linear = nn.Linear(16, classes)

    def forward(self, x):
        out = F.relu(self.bn(self.conv(x)))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def test():
    net = TinyResNet()
    x = torch.randn(2, 3, 32, 32)
    y = net(x)
    print(y.size())


if __name__ == "__main__":
    test()
"""


# Step functions built by factories (the "make_train_step" pattern of PyTorch courses), run by
# an epoch loop at module level; each step switches the mode or not, as the caller says.
def step_factories(train_switch: str = "", val_switch: str = "") -> str:
    """The script, with ``train_switch`` / ``val_switch`` (``"net.train()"``) as the first line
    of the training / validation step."""
    train = f"        {train_switch}\n" if train_switch else ""
    val = f"        {val_switch}\n" if val_switch else ""
    return _STEP_FACTORIES.replace("{TRAIN}", train).replace("{VAL}", val)


_STEP_FACTORIES = """\
import torch
from torch import nn


def build_train_step(net, criterion, opt):
    def train_step(inputs, targets):
{TRAIN}        opt.zero_grad()
        loss = criterion(net(inputs), targets)
        loss.backward()
        opt.step()
        return loss.item()

    return train_step


def build_val_step(net, criterion):
    def val_step(inputs, targets):
{VAL}        return criterion(net(inputs), targets).item()

    return val_step


classifier = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 3))
sgd = torch.optim.SGD(classifier.parameters(), lr=0.05)
step = build_train_step(classifier, nn.CrossEntropyLoss(), sgd)
check = build_val_step(classifier, nn.CrossEntropyLoss())
for epoch in range(20):
    for inputs, targets in train_batches:
        step(inputs, targets)
    with torch.no_grad():
        val_loss = sum(check(inputs, targets) for inputs, targets in val_batches)
"""

# a lab's self-test of a decoder: built right there and run once on zeros (its skip
# features a list of zero tensors, an optional argument passed as None) to check shapes
LAB_SHAPE_SELF_TEST = """\
import torch
from torch import nn


class Decoder(nn.Module):
    def __init__(self, channels, classes):
        super().__init__()
        self.up = nn.ConvTranspose2d(channels, channels // 2, 2, stride=2)
        self.head = nn.Conv2d(channels, classes, 1)
        self.drop = nn.Dropout2d(0.1)

    def forward(self, x, skips, labels=None):
        x = self.up(x)
        x = torch.cat([x, skips[-1]], dim=1)
        return self.head(self.drop(x))


def test_decoder():
    decoder = Decoder(64, 5)
    bottleneck = torch.zeros((2, 64, 8, 8))
    skips = [torch.zeros((2, 32, 16 * (i + 1), 16 * (i + 1))) for i in range(1)]
    logits = decoder(bottleneck, skips, None)
    assert list(logits.shape) == [2, 5, 16, 16], logits.shape


if __name__ == "__main__":
    test_decoder()
"""
