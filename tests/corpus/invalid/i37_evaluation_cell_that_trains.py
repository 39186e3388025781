"""Models a notebook "evaluation" cell copied from the training cell: eval() then backward and step.

Real bug: Graylab/DL4Proteins-notebooks issue #11 ("Evaluation loop trains on the test set":
``model.eval()`` followed by ``loss.backward()`` and ``optimizer.step()`` over the test loader
for several epochs — eval() "does not prevent parameter updates"). The eval() reaches real
training steps of the same model. Original code.
"""

# %%
import torch
import torch.nn as nn
import torch.nn.functional as F


class GraphClassifier(nn.Module):
    def __init__(self, in_dim: int = 32, hidden: int = 64, classes: int = 2) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.3))
        self.out = nn.Linear(hidden, classes)

    def forward(self, node_features, graph_index):
        pooled = torch.zeros(int(graph_index.max()) + 1, node_features.size(1)).index_add_(0, graph_index, node_features)
        return self.out(self.mlp(pooled))


def run(train_loader, test_loader, epochs=10):
    model = GraphClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()

    # %% training
    model.train()
    for epoch in range(epochs):
        for data in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(data.x, data.batch), data.graph_y)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: train loss {loss.item():.4f}")

    # %% evaluation
    model.eval()  # expect: TM101
    for epoch in range(epochs):
        correct = 0
        for data in test_loader:
            optimizer.zero_grad()
            output = model(data.x, data.batch)
            loss = criterion(output, data.graph_y)
            loss.backward()
            optimizer.step()
            correct += (F.softmax(output, dim=1).argmax(1) == data.graph_y).sum().item()
        print(f"test accuracy {correct / len(test_loader.dataset):.3f}")
