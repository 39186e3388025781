"""Models the PyG example layout: module-level model/optimizer/data and zero-argument train()/test().

Pattern from pyg-team/pytorch_geometric examples/gcn.py: ``model``, ``optimizer`` and ``data``
are globals; ``train()`` calls ``model.train()`` and does one full-batch step returning
``float(loss.detach())``; ``@torch.no_grad() def test()`` calls ``model.eval()``; the module-level
epoch loop alternates them; dropout is functional (``F.dropout(x, training=self.training)``).
Original code.
"""

import torch
import torch.nn.functional as F
from torch_geometric.datasets import Planetoid
from torch_geometric.nn import GCNConv

dataset = Planetoid(root="data/Planetoid", name="Cora")
data = dataset[0]


class GCN(torch.nn.Module):
    def __init__(self, in_channels, hidden_channels, out_channels):
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden_channels)
        self.conv2 = GCNConv(hidden_channels, out_channels)

    def forward(self, x, edge_index):
        x = F.dropout(x, p=0.5, training=self.training)
        x = self.conv1(x, edge_index).relu()
        x = F.dropout(x, p=0.5, training=self.training)
        return self.conv2(x, edge_index)


model = GCN(dataset.num_features, 16, dataset.num_classes)
optimizer = torch.optim.Adam(
    [dict(params=model.conv1.parameters(), weight_decay=5e-4), dict(params=model.conv2.parameters(), weight_decay=0)],
    lr=0.01,
)


def train():
    model.train()
    optimizer.zero_grad()
    out = model(data.x, data.edge_index)
    loss = F.cross_entropy(out[data.train_mask], data.y[data.train_mask])
    loss.backward()
    optimizer.step()
    return float(loss.detach())


@torch.no_grad()
def test():
    model.eval()
    pred = model(data.x, data.edge_index).argmax(dim=-1)
    return [int((pred[mask] == data.y[mask]).sum()) / int(mask.sum()) for mask in (data.train_mask, data.val_mask, data.test_mask)]


best_val_acc = test_acc = 0.0
for epoch in range(1, 201):
    loss = train()
    train_acc, val_acc, tmp_test_acc = test()
    if val_acc > best_val_acc:
        best_val_acc, test_acc = val_acc, tmp_test_acc
    print(f"Epoch {epoch:03d} loss {loss:.4f} train {train_acc:.3f} val {val_acc:.3f} test {test_acc:.3f}")
