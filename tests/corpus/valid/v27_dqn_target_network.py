"""Models DQN with a target network kept in eval and synced from the policy network.

Pattern from pytorch/tutorials intermediate_source/reinforcement_q_learning.py: ``target_net.eval()``
once, ``select_action`` under no_grad, ``optimize_model()`` helper doing zero_grad/backward/
gradient clamp/step with the target values ``.detach()``-ed, periodic ``load_state_dict`` sync.
Original code.
"""

import math
import random

import torch
import torch.nn as nn

GAMMA, TAU_EPISODES = 0.99, 10
EPS_HIGH, EPS_LOW, EPS_SCALE = 0.9, 0.05, 1000


class QNet(nn.Module):
    def __init__(self, observations: int, actions: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(observations, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU())
        self.head = nn.Linear(128, actions)

    def forward(self, state):
        return self.head(self.body(state))


online = QNet(4, 2)
frozen_copy = QNet(4, 2)
frozen_copy.load_state_dict(online.state_dict())
frozen_copy.eval()
optimizer = torch.optim.AdamW(online.parameters(), lr=1e-4, amsgrad=True)
actions_taken = 0


def act(state, n_actions=2):
    global actions_taken
    epsilon = EPS_LOW + (EPS_HIGH - EPS_LOW) * math.exp(-actions_taken / EPS_SCALE)
    actions_taken += 1
    if random.random() < epsilon:
        return torch.tensor([[random.randrange(n_actions)]], dtype=torch.long)
    with torch.no_grad():
        return online(state).argmax(dim=1, keepdim=True)


def learn(replay, batch_size=128):
    if len(replay) < batch_size:
        return None
    states, actions, rewards, next_states, alive = replay.sample(batch_size)
    q_taken = online(states).gather(1, actions)
    bootstrap = torch.zeros(batch_size)
    bootstrap[alive] = frozen_copy(next_states).max(dim=1).values.detach()
    target = rewards + GAMMA * bootstrap
    loss = nn.functional.smooth_l1_loss(q_taken, target.unsqueeze(1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_value_(online.parameters(), 100)
    optimizer.step()
    return loss.item()


def play(env, replay, episodes=500):
    for episode in range(episodes):
        state, finished = env.reset(), False
        while not finished:
            action = act(state)
            next_state, reward, finished = env.step(action.item())
            replay.push(state, action, None if finished else next_state, reward)
            state = next_state
            learn(replay)
        if episode % TAU_EPISODES == 0:
            frozen_copy.load_state_dict(online.state_dict())
