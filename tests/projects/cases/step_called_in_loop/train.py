import torch

from pong import ActorCritic, cloning_step


def pretrain(agent, demos, epochs=5):
    optimizer = torch.optim.Adam(agent.actor.parameters(), lr=1e-3)
    for epoch in range(epochs):
        for obs, actions in demos:
            cloning_step(agent.actor, optimizer, obs, actions)


def main(env, demos, steps=50_000):
    agent = ActorCritic(env.obs_dim, env.n_actions)
    pretrain(agent, demos)
    for step in range(steps):
        obs, actions, rewards, next_obs, dones = env.sample_batch(256)
        critic_loss, actor_loss = agent.update(obs, actions, rewards, next_obs, dones)
        if step % 1000 == 0:
            print(f"step {step}: critic {critic_loss:.3f} actor {actor_loss:.3f}")


if __name__ == "__main__":
    from pong.envs import make_env

    env = make_env("CartPole-v1")
    main(env, env.demonstrations())
