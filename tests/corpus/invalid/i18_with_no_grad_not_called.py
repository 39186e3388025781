"""Models ``with torch.no_grad:`` written without parentheses around the DQN target computation.

Real pattern: ``TypeError: 'function' object does not support the context manager protocol``
(older releases: ``AttributeError: __enter__``), a common typo in RL code where the TD target
is computed from the target network. Reported at the ``with`` item. Original code.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class QNet(nn.Module):
    def __init__(self, obs_dim: int = 8, n_actions: int = 4) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(obs_dim, 256), nn.ReLU(), nn.Linear(256, n_actions))

    def forward(self, x):
        return self.net(x)


class Agent:
    def __init__(self, gamma: float = 0.99, lr: float = 5e-4) -> None:
        self.q = QNet()
        self.q_target = QNet()
        self.q_target.load_state_dict(self.q.state_dict())
        self.optimizer = torch.optim.Adam(self.q.parameters(), lr=lr)
        self.gamma = gamma

    def learn(self, states, actions, rewards, next_states, dones):
        with torch.no_grad:  # expect: TM203
            next_q = self.q_target(next_states).max(1, keepdim=True)[0]
            targets = rewards + self.gamma * next_q * (1 - dones)
        expected = self.q(states).gather(1, actions)
        loss = F.mse_loss(expected, targets)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def soft_update(self, tau: float = 1e-3):
        for target_param, param in zip(self.q_target.parameters(), self.q.parameters()):
            target_param.data.copy_(tau * param.data + (1.0 - tau) * target_param.data)


def run(env, buffer, episodes=2000):
    agent = Agent()
    for _ in range(episodes):
        state, done = env.reset(), False
        while not done:
            action = env.action_space.sample()
            next_state, reward, done, _ = env.step(action)
            buffer.add(state, action, reward, next_state, done)
            state = next_state
            if len(buffer) > 64:
                agent.learn(*buffer.sample(64))
                agent.soft_update()
