import torch

from shapecomp.nets import CompletionNet


class Runner:
    """Builds the network and its optimizer and runs the epochs; subclasses say what one
    training step is."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.device = torch.device(cfg.device)
        self.net = None
        self.optimizer = None

    def build(self):
        self.net = torch.nn.DataParallel(CompletionNet(self.cfg.n_points).to(self.device))
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=self.cfg.lr)

    def train_step(self, batch):
        raise NotImplementedError

    def run(self, loader, epochs):
        self.build()
        self.net.train()
        for epoch in range(epochs):
            for batch in loader:
                self.train_step(batch)
            self.end_epoch(epoch)

    def end_epoch(self, epoch):
        pass
