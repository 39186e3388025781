"""Models knowledge distillation: the teacher in eval under no_grad, the student training.

Pattern from pytorch/tutorials beginner_source/knowledge_distillation_tutorial.py
(train_knowledge_distillation): ``teacher.eval()`` and ``student.train()`` before the loop, the
teacher's logits computed under ``torch.no_grad()``, soft-target KL + hard CE loss; test()
evaluates either network. Original code.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def distill(teacher, student, loader, epochs=10, lr=1e-3, T=2.0, soft_weight=0.25, device="cuda"):
    ce_loss = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(student.parameters(), lr=lr)
    teacher.to(device)
    student.to(device)
    teacher.eval()
    student.train()
    for epoch in range(epochs):
        running_loss = 0.0
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            with torch.no_grad():
                teacher_logits = teacher(inputs)
            student_logits = student(inputs)
            soft_targets = F.softmax(teacher_logits / T, dim=-1)
            soft_prob = F.log_softmax(student_logits / T, dim=-1)
            soft_loss = -(soft_targets * soft_prob).sum() / soft_prob.size(0) * T**2
            label_loss = ce_loss(student_logits, labels)
            loss = soft_weight * soft_loss + (1.0 - soft_weight) * label_loss
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        print(f"epoch {epoch + 1}: loss {running_loss / len(loader):.4f}")


def test(model, loader, device="cuda"):
    model.to(device)
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for inputs, labels in loader:
            outputs = model(inputs.to(device))
            correct += (outputs.argmax(1).cpu() == labels).sum().item()
            total += labels.size(0)
    return 100.0 * correct / total


def main(teacher, student, train_loader, test_loader):
    print("teacher", test(teacher, test_loader))
    distill(teacher, student, train_loader)
    print("student", test(student, test_loader))
