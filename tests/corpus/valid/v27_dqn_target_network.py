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

BATCH_SIZE, GAMMA, TARGET_UPDATE = 128, 0.99, 10
EPS_START, EPS_END, EPS_DECAY = 0.9, 0.05, 200


class DQN(nn.Module):
    def __init__(self, n_obs: int, n_actions: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(n_obs, 128), nn.ReLU(), nn.Linear(128, n_actions))

    def forward(self, x):
        return self.layers(x)


policy_net = DQN(4, 2)
target_net = DQN(4, 2)
target_net.load_state_dict(policy_net.state_dict())
target_net.eval()
optimizer = torch.optim.RMSprop(policy_net.parameters())
steps_done = 0


def select_action(state):
    global steps_done
    eps = EPS_END + (EPS_START - EPS_END) * math.exp(-steps_done / EPS_DECAY)
    steps_done += 1
    if random.random() > eps:
        with torch.no_grad():
            return policy_net(state).max(1)[1].view(1, 1)
    return torch.tensor([[random.randrange(2)]], dtype=torch.long)


def optimize_model(memory):
    if len(memory) < BATCH_SIZE:
        return
    states, actions, rewards, next_states, non_final = memory.sample(BATCH_SIZE)
    state_action_values = policy_net(states).gather(1, actions)
    next_values = torch.zeros(BATCH_SIZE)
    next_values[non_final] = target_net(next_states).max(1)[0].detach()
    expected = rewards + GAMMA * next_values
    loss = nn.functional.smooth_l1_loss(state_action_values, expected.unsqueeze(1))
    optimizer.zero_grad()
    loss.backward()
    for param in policy_net.parameters():
        param.grad.data.clamp_(-1, 1)
    optimizer.step()


def run(env, memory, num_episodes=300):
    for i_episode in range(num_episodes):
        state = env.reset()
        done = False
        while not done:
            action = select_action(state)
            next_state, reward, done = env.step(action.item())
            memory.push(state, action, None if done else next_state, reward)
            state = next_state
            optimize_model(memory)
        if i_episode % TARGET_UPDATE == 0:
            target_net.load_state_dict(policy_net.state_dict())
