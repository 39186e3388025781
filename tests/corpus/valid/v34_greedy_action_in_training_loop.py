"""Models an online RL loop that picks greedy actions with a plain forward between updates.

Pattern from vwxyzjn/cleanrl cleanrl/dqn.py: ``q_values = q_network(obs)`` for the epsilon-greedy
action (no no_grad; the argmax result carries no graph and is dropped), TD targets computed
under ``torch.no_grad()`` from the target network, soft target updates through ``.data``.
The same loop trains ``q_network``; none of this is an evaluation. Original code.
"""

import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class QNetwork(nn.Module):
    def __init__(self, obs_dim: int, n_actions: int) -> None:
        super().__init__()
        self.network = nn.Sequential(nn.Linear(obs_dim, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, n_actions))

    def forward(self, x):
        return self.network(x)


def linear_schedule(start_e, end_e, duration, t):
    return max((end_e - start_e) / duration * t + start_e, end_e)


def train(envs, rb, args, device="cpu"):
    q_network = QNetwork(args.obs_dim, args.n_actions).to(device)
    optimizer = torch.optim.Adam(q_network.parameters(), lr=args.learning_rate)
    target_network = QNetwork(args.obs_dim, args.n_actions).to(device)
    target_network.load_state_dict(q_network.state_dict())
    obs = envs.reset()
    for global_step in range(args.total_timesteps):
        epsilon = linear_schedule(1.0, 0.05, 0.5 * args.total_timesteps, global_step)
        if random.random() < epsilon:
            actions = np.array([envs.single_action_space.sample() for _ in range(envs.num_envs)])
        else:
            q_values = q_network(torch.Tensor(obs).to(device))
            actions = torch.argmax(q_values, dim=1).cpu().numpy()
        next_obs, rewards, dones, infos = envs.step(actions)
        rb.add(obs, next_obs, actions, rewards, dones, infos)
        obs = next_obs

        if global_step > args.learning_starts and global_step % args.train_frequency == 0:
            data = rb.sample(args.batch_size)
            with torch.no_grad():
                target_max, _ = target_network(data.next_observations).max(dim=1)
                td_target = data.rewards.flatten() + args.gamma * target_max * (1 - data.dones.flatten())
            old_val = q_network(data.observations).gather(1, data.actions).squeeze()
            loss = F.mse_loss(td_target, old_val)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        if global_step % args.target_network_frequency == 0:
            for target_param, param in zip(target_network.parameters(), q_network.parameters()):
                target_param.data.copy_(args.tau * param.data + (1.0 - args.tau) * target_param.data)
    return q_network
