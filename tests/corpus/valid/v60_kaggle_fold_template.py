"""Models the Kaggle competition template: ``train_fn`` / ``valid_fn`` / ``train_loop(folds, fold)``.

A code search for ``def train_fn(fold, train_loader, model, criterion`` finds this template
copied across many public competition repositories: AMP with ``GradScaler``, loss divided by the
accumulation steps and ``losses.append(loss.item())``, ``scaler.step`` / ``zero_grad`` /
``scheduler.step`` every ``CFG.accum`` steps, ``valid_fn`` wrapping only the forward in
``torch.no_grad()`` and computing the loss outside it, per-fold checkpoints, and test-time
augmentation over reloaded fold models. Original code.
"""
import gc

import numpy as np
import torch
import torch.nn as nn
from torch.cuda.amp import GradScaler, autocast
from torch.utils.data import DataLoader


class CFG:
    epochs = 10
    lr = 2e-4
    batch_size = 32
    accum = 2
    n_folds = 5
    max_grad_norm = 1000
    device = "cuda"


def train_fn(fold, train_loader, model, criterion, optimizer, epoch, scheduler, device):
    model.train()
    scaler = GradScaler(enabled=True)
    losses = []
    for step, (images, labels) in enumerate(train_loader):
        images, labels = images.to(device), labels.to(device)
        with autocast(enabled=True):
            y_preds = model(images)
            loss = criterion(y_preds.view(-1), labels)
        if CFG.accum > 1:
            loss = loss / CFG.accum
        losses.append(loss.item())
        scaler.scale(loss).backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), CFG.max_grad_norm)
        if (step + 1) % CFG.accum == 0:
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad()
            scheduler.step()
    return np.mean(losses)


def valid_fn(valid_loader, model, criterion, device):
    model.eval()
    preds, losses = [], []
    for step, (images, labels) in enumerate(valid_loader):
        images, labels = images.to(device), labels.to(device)
        with torch.no_grad():
            y_preds = model(images)
        loss = criterion(y_preds.view(-1), labels)
        losses.append(loss.item())
        preds.append(y_preds.sigmoid().to("cpu").numpy())
    return np.mean(losses), np.concatenate(preds)


def inference_tta(model, loader, device):
    model.eval()
    probs = []
    for images in loader:
        images = images.to(device)
        with torch.no_grad():
            p = model(images).sigmoid() + model(images.flip(-1)).sigmoid()
        probs.append((p / 2).cpu().numpy())
    return np.concatenate(probs)


def train_loop(folds, fold, build_model, make_loader):
    train_loader = make_loader(folds, fold, train=True)
    valid_loader = make_loader(folds, fold, train=False)
    model = build_model().to(CFG.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CFG.lr, weight_decay=1e-6)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=CFG.lr, total_steps=CFG.epochs * len(train_loader))
    criterion = nn.BCEWithLogitsLoss()
    best_score = np.inf
    for epoch in range(CFG.epochs):
        avg_loss = train_fn(fold, train_loader, model, criterion, optimizer, epoch, scheduler, CFG.device)
        avg_val_loss, predictions = valid_fn(valid_loader, model, criterion, CFG.device)
        if avg_val_loss < best_score:
            best_score = avg_val_loss
            torch.save({"model": model.state_dict(), "predictions": predictions}, f"fold{fold}_best.pth")
        print(f"Epoch {epoch + 1} - avg_train_loss: {avg_loss:.4f} avg_val_loss: {avg_val_loss:.4f}")
    torch.cuda.empty_cache()
    gc.collect()
    return best_score


def main(folds, build_model, make_loader, test_loader):
    scores = [train_loop(folds, fold, build_model, make_loader) for fold in range(CFG.n_folds)]
    print(np.mean(scores))
    preds = []
    for fold in range(CFG.n_folds):
        model = build_model().to(CFG.device)
        model.load_state_dict(torch.load(f"fold{fold}_best.pth")["model"])
        preds.append(inference_tta(model, test_loader, CFG.device))
    return np.mean(preds, axis=0)
