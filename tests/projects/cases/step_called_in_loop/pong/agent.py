import torch
import torch.nn as nn
import torch.nn.functional as F


class Critic(nn.Module):
    def __init__(self, obs_dim, lr):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, 64), nn.Tanh(), nn.Linear(64, 1))
        self.optimizer = torch.optim.RMSprop(self.parameters(), lr=lr)

    def forward(self, obs):
        return self.body(obs).squeeze(-1)


class Actor(nn.Module):
    def __init__(self, obs_dim, n_actions, lr):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(obs_dim, 64), nn.Tanh(), nn.Linear(64, n_actions))
        self.optimizer = torch.optim.RMSprop(self.parameters(), lr=lr)

    def forward(self, obs):
        return torch.distributions.Categorical(logits=self.body(obs))


class ActorCritic:
    """One-step actor-critic: each network has its own optimizer."""

    def __init__(self, obs_dim, n_actions, lr=7e-4, gamma=0.99):
        self.actor = Actor(obs_dim, n_actions, lr)
        self.critic = Critic(obs_dim, lr)
        self.gamma = gamma

    def update(self, obs, actions, rewards, next_obs, dones):
        values = self.critic(obs)
        with torch.no_grad():
            targets = rewards + self.gamma * self.critic(next_obs) * (1 - dones)
        critic_loss = F.mse_loss(values, targets)
        critic_loss.backward()
        self.critic.optimizer.step()

        self.actor.zero_grad()
        advantages = (targets - values).detach()
        actor_loss = -(self.actor(obs).log_prob(actions) * advantages).mean()
        actor_loss.backward()
        self.actor.optimizer.step()
        return critic_loss.item(), actor_loss.item()
