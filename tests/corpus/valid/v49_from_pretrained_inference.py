"""Models inference scripts that rely on ``from_pretrained()`` having already called ``eval()``.

transformers' ``PreTrainedModel.from_pretrained`` ends with ``model.eval()`` ("Set model in
evaluation mode to deactivate DropOut modules by default", modeling_utils; restated in
huggingface/transformers PR #1703 and by HF staff on the briaai/RMBG-1.4 model card), and
diffusers' ``ModelMixin.from_pretrained`` does the same, so countless scripts run the loaded
model under ``torch.no_grad()`` without their own ``eval()``. Torchvision constructors do *not*
do this (pytorch/vision issue #386), so the ResNet here is switched explicitly. Original code.
"""

import torch
import torchvision
from transformers import AutoModelForSequenceClassification, AutoTokenizer

CHECKPOINT = "distilbert-base-uncased-finetuned-sst-2-english"


def classify(texts, device="cpu"):
    tokenizer = AutoTokenizer.from_pretrained(CHECKPOINT)
    model = AutoModelForSequenceClassification.from_pretrained(CHECKPOINT).to(device)
    batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt").to(device)
    with torch.no_grad():
        logits = model(**batch).logits
    labels = [model.config.id2label[i] for i in logits.argmax(-1).tolist()]
    return list(zip(texts, labels, logits.softmax(-1).max(-1).values.tolist()))


def embed_images(images):
    backbone = torchvision.models.resnet50(weights="IMAGENET1K_V2")
    backbone.fc = torch.nn.Identity()
    backbone.eval()
    with torch.inference_mode():
        return backbone(images)


def rank_pairs(queries, documents, device="cpu"):
    tokenizer = AutoTokenizer.from_pretrained("cross-encoder/ms-marco-MiniLM-L-6-v2")
    reranker = AutoModelForSequenceClassification.from_pretrained("cross-encoder/ms-marco-MiniLM-L-6-v2")
    reranker.to(device)
    scores = []
    for query in queries:
        features = tokenizer([query] * len(documents), documents, padding=True, return_tensors="pt")
        with torch.no_grad():
            scores.append(reranker(**features.to(device)).logits.squeeze(-1).cpu())
    return torch.stack(scores)


if __name__ == "__main__":
    print(classify(["I love this film.", "Worst purchase ever."]))
