"""Models an RL algorithm object whose ``train()`` method runs gradient updates (not nn.Module.train).

Pattern from DLR-RM/stable-baselines3 stable_baselines3/ppo/ppo.py: ``learn()`` alternates
``collect_rollouts()`` (policy forward under ``th.no_grad()``) and ``self.train()``, which calls
``self.policy.set_training_mode(True)`` and steps ``self.policy.optimizer``; per-minibatch
losses are logged with ``.item()``. ``agent.train()`` here is not a mode switch. Original code.
"""

from typing import NamedTuple

import numpy as np
import torch as th
import torch.nn.functional as F


class RolloutBatch(NamedTuple):
    observations: th.Tensor
    actions: th.Tensor
    old_log_prob: th.Tensor
    advantages: th.Tensor
    returns: th.Tensor


class PPO:
    def __init__(self, policy, env, n_steps=2048, batch_size=64, n_epochs=10, clip_range=0.2):
        self.policy = policy
        self.env = env
        self.n_steps = n_steps
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.clip_range = clip_range
        self.buffer = []

    def collect_rollouts(self, obs):
        self.policy.set_training_mode(False)
        self.buffer.clear()
        for _ in range(self.n_steps):
            with th.no_grad():
                actions, values, log_probs = self.policy(th.as_tensor(obs))
            next_obs, rewards, dones, _ = self.env.step(actions.cpu().numpy())
            self.buffer.append((obs, actions, values, log_probs, rewards, dones))
            obs = next_obs
        return obs

    def train(self):
        self.policy.set_training_mode(True)
        pg_losses, value_losses = [], []
        for _ in range(self.n_epochs):
            for rollout in self.minibatches():
                values, log_prob, entropy = self.policy.evaluate_actions(rollout.observations, rollout.actions)
                advantages = rollout.advantages
                advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
                ratio = th.exp(log_prob - rollout.old_log_prob)
                policy_loss = -th.min(advantages * ratio, advantages * th.clamp(ratio, 0.8, 1.2)).mean()
                value_loss = F.mse_loss(rollout.returns, values.flatten())
                loss = policy_loss + 0.5 * value_loss - 0.01 * entropy.mean()
                pg_losses.append(policy_loss.item())
                value_losses.append(value_loss.item())
                self.policy.optimizer.zero_grad()
                loss.backward()
                th.nn.utils.clip_grad_norm_(self.policy.parameters(), 0.5)
                self.policy.optimizer.step()
        return float(np.mean(pg_losses)), float(np.mean(value_losses))

    def minibatches(self, gamma=0.99):
        obs, actions, values, log_probs, rewards, dones = zip(*self.buffer)
        returns, running = [], 0.0
        for reward, done in zip(reversed(rewards), reversed(dones)):
            running = float(reward) + gamma * running * (1.0 - float(done))
            returns.insert(0, running)
        returns = th.tensor(returns)
        values = th.stack(values).flatten()
        order = th.randperm(len(self.buffer))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            yield RolloutBatch(
                observations=th.as_tensor(np.stack(obs))[idx],
                actions=th.stack(actions)[idx],
                old_log_prob=th.stack(log_probs).flatten()[idx],
                advantages=(returns - values)[idx],
                returns=returns[idx],
            )

    def learn(self, total_timesteps):
        obs = self.env.reset()
        for _ in range(total_timesteps // self.n_steps):
            obs = self.collect_rollouts(obs)
            print(self.train())
        return self


def main(policy, env):
    agent = PPO(policy, env)
    agent.learn(1_000_000)
    agent.train()
