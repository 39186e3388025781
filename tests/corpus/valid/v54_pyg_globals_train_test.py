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
from torch_geometric.nn import SAGEConv

citeseer = Planetoid(root="data/Planetoid", name="CiteSeer")
graph = citeseer[0]


class SAGE(torch.nn.Module):
    def __init__(self, in_dim, hidden_dim, num_classes, p=0.5):
        super().__init__()
        self.first = SAGEConv(in_dim, hidden_dim)
        self.second = SAGEConv(hidden_dim, num_classes)
        self.p = p

    def forward(self, features, edges):
        h = F.dropout(features, p=self.p, training=self.training)
        h = F.elu(self.first(h, edges))
        h = F.dropout(h, p=self.p, training=self.training)
        return self.second(h, edges)


net = SAGE(citeseer.num_features, 64, citeseer.num_classes)
opt = torch.optim.Adam(
    [{"params": net.first.parameters(), "weight_decay": 5e-4}, {"params": net.second.parameters(), "weight_decay": 0.0}],
    lr=0.005,
)


def train():
    net.train()
    opt.zero_grad()
    logits = net(graph.x, graph.edge_index)
    loss = F.cross_entropy(logits[graph.train_mask], graph.y[graph.train_mask])
    loss.backward()
    opt.step()
    return float(loss.detach())


@torch.no_grad()
def test():
    net.eval()
    predicted = net(graph.x, graph.edge_index).argmax(dim=-1)
    scores = []
    for split_mask in (graph.train_mask, graph.val_mask, graph.test_mask):
        scores.append(int((predicted[split_mask] == graph.y[split_mask]).sum()) / int(split_mask.sum()))
    return scores


best_val = reported_test = 0.0
for epoch in range(1, 301):
    train_loss = train()
    train_acc, val_acc, test_acc = test()
    if val_acc > best_val:
        best_val, reported_test = val_acc, test_acc
    if epoch % 20 == 0:
        print(f"{epoch:03d} loss={train_loss:.4f} train={train_acc:.3f} val={val_acc:.3f} test={reported_test:.3f}")
