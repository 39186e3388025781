"""Models REINFORCE / actor-critic: per-step log-probs collected, summed, backpropagated once.

Pattern from pytorch/examples reinforcement_learning/reinforce.py and actor_critic/main.py:
``select_action`` runs the policy *with* autograd (log-probs are saved for the update),
``finish_episode`` appends ``-log_prob * R`` per step to a list / accumulates ``value_loss +=``
and calls one backward on the sum. Accumulating graphs here is the algorithm. Original code.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical


class ActorCritic(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.affine = nn.Linear(4, 128)
        self.action_head = nn.Linear(128, 2)
        self.value_head = nn.Linear(128, 1)
        self.saved = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.affine(x))
        return F.softmax(self.action_head(x), dim=-1), self.value_head(x)


model = ActorCritic()
optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)
eps = np.finfo(np.float32).eps.item()


def select_action(state):
    probs, value = model(torch.from_numpy(state).float())
    dist = Categorical(probs)
    action = dist.sample()
    model.saved.append((dist.log_prob(action), value))
    return action.item()


def finish_episode(gamma=0.99):
    R = 0.0
    returns = []
    for r in model.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    policy_losses = []
    value_loss = 0
    for (log_prob, value), R in zip(model.saved, returns):
        advantage = R - value.item()
        policy_losses.append(-log_prob * advantage)
        value_loss += F.smooth_l1_loss(value, torch.tensor([R]))
    optimizer.zero_grad()
    loss = torch.stack(policy_losses).sum() + value_loss
    loss.backward()
    optimizer.step()
    del model.rewards[:]
    del model.saved[:]


def main(env, episodes=1000):
    for _ in range(episodes):
        state, done = env.reset(), False
        while not done:
            state, reward, done = env.step(select_action(state))
            model.rewards.append(reward)
        finish_episode()
