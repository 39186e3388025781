"""Models full-batch LBFGS training with a closure, plus a no_grad forecast each step.

Pattern from pytorch/examples time_sequence_prediction/train.py: ``optimizer.step(closure)``
where the closure does zero_grad, forward, backward and returns the loss; after each step the
model predicts the future under ``torch.no_grad()``. Original code.
"""

import numpy as np
import torch
import torch.nn as nn


class SineForecaster(nn.Module):
    def __init__(self, hidden: int = 51) -> None:
        super().__init__()
        self.cell1 = nn.LSTMCell(1, hidden)
        self.cell2 = nn.LSTMCell(hidden, hidden)
        self.out = nn.Linear(hidden, 1)
        self.hidden = hidden

    def forward(self, series, future: int = 0):
        batch = series.size(0)
        h1 = c1 = h2 = c2 = torch.zeros(batch, self.hidden, dtype=series.dtype)
        outputs = []
        for step in series.split(1, dim=1):
            h1, c1 = self.cell1(step, (h1, c1))
            h2, c2 = self.cell2(h1, (h2, c2))
            outputs.append(self.out(h2))
        for _ in range(future):
            h1, c1 = self.cell1(outputs[-1], (h1, c1))
            h2, c2 = self.cell2(h1, (h2, c2))
            outputs.append(self.out(h2))
        return torch.cat(outputs, dim=1)


def main(data: np.ndarray, steps: int = 15, future: int = 1000):
    torch.manual_seed(0)
    series = torch.from_numpy(data).double()
    train_in, train_target = series[3:, :-1], series[3:, 1:]
    test_in, test_target = series[:3, :-1], series[:3, 1:]
    model = SineForecaster().double()
    criterion = nn.MSELoss()
    optimizer = torch.optim.LBFGS(model.parameters(), lr=0.8)
    for i in range(steps):

        def closure():
            optimizer.zero_grad()
            loss = criterion(model(train_in), train_target)
            loss.backward()
            return loss

        loss = optimizer.step(closure)
        with torch.no_grad():
            prediction = model(test_in, future=future)
            test_loss = criterion(prediction[:, :-future], test_target)
        print(f"step {i}: train {loss.item():.6f} test {test_loss.item():.6f}")
    return prediction.numpy()
