import torch.nn.functional as F


def cloning_step(policy, optimizer, obs, expert_actions):
    """Behaviour cloning on one batch of expert demonstrations."""
    logits = policy.body(obs)
    loss = F.cross_entropy(logits, expert_actions)
    loss.backward()
    optimizer.step()
    return loss.item()
