"""Models a character-level RNN whose loss is summed over time steps before one backward.

Pattern from pytorch/tutorials intermediate_source/char_rnn_generation_tutorial.py and the
char_level_rnn example: ``loss += criterion(output, target[t])`` inside the time-step loop, then
``loss.backward()`` once per sequence (backpropagation through time), ``.item()`` for logging,
sampling under no_grad. Original code.
"""

import torch
import torch.nn as nn


class CharRNN(nn.Module):
    def __init__(self, n_chars: int, hidden: int = 128) -> None:
        super().__init__()
        self.hidden_size = hidden
        self.i2h = nn.Linear(n_chars + hidden, hidden)
        self.i2o = nn.Linear(n_chars + hidden, n_chars)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x, hidden):
        combined = torch.cat((x, hidden), 1)
        return self.dropout(self.i2o(combined)), torch.tanh(self.i2h(combined))

    def init_hidden(self):
        return torch.zeros(1, self.hidden_size)


def train_sequence(rnn, optimizer, criterion, input_line, target_line):
    hidden = rnn.init_hidden()
    optimizer.zero_grad()
    loss = 0
    for t in range(input_line.size(0)):
        output, hidden = rnn(input_line[t], hidden)
        loss += criterion(output, target_line[t].unsqueeze(0))
    loss.backward()
    optimizer.step()
    return loss.item() / input_line.size(0)


def sample(rnn, start, to_tensor, max_length=20):
    rnn.eval()
    with torch.no_grad():
        x, hidden, name = to_tensor(start), rnn.init_hidden(), start
        for _ in range(max_length):
            output, hidden = rnn(x[0], hidden)
            index = output.argmax(1).item()
            name += chr(ord("a") + index)
            x = to_tensor(name[-1])
    rnn.train()
    return name


def main(rnn, pairs, to_tensor, iterations=100_000):
    optimizer = torch.optim.SGD(rnn.parameters(), lr=5e-4)
    criterion = nn.CrossEntropyLoss()
    total = 0.0
    rnn.train()
    for it in range(1, iterations + 1):
        total += train_sequence(rnn, optimizer, criterion, *pairs[it % len(pairs)])
        if it % 5000 == 0:
            print(it, total / 5000, sample(rnn, "k", to_tensor))
            total = 0.0
