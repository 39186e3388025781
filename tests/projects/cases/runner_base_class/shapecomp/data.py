import torch
from torch.utils.data import DataLoader, Dataset


class PairedClouds(Dataset):
    def __init__(self, root):
        self.items = torch.load(f"{root}/pairs.pt")

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        partial, full = self.items[i]
        return {"partial": partial, "full": full}


def shapenet_loader(root, batch_size=32):
    return DataLoader(PairedClouds(root), batch_size=batch_size, shuffle=True)
