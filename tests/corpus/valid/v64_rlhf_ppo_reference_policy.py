"""Models an RLHF-style PPO loop: frozen reference policy, rollouts under no_grad, updates in train mode.

Pattern from RLHF scripts built like huggingface/trl's PPO trainer (trl/trainer/ppo_trainer.py)
and found by a code search for ``ref_model.eval()``: a frozen copy ``ref_model.eval()`` with
``requires_grad_(False)``, ``policy.eval()`` + ``generate`` + log-probs under
``@torch.no_grad()`` for the rollout, a KL penalty against the reference, then
``policy.train()`` and several PPO epochs with ``accelerator.backward(loss)``. Original code.
"""
import torch
import torch.nn.functional as F


def logprobs_of(model, input_ids, attention_mask):
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1]
    return torch.gather(F.log_softmax(logits, dim=-1), 2, input_ids[:, 1:, None]).squeeze(-1)


class PPOTrainer:
    def __init__(self, policy, ref_policy, value_head, tokenizer, accelerator, lr=1e-5, kl_coef=0.05):
        self.policy = policy
        self.ref_policy = ref_policy.eval().requires_grad_(False)
        self.value_head = value_head
        self.tokenizer = tokenizer
        self.accelerator = accelerator
        params = list(policy.parameters()) + list(value_head.parameters())
        self.optimizer = torch.optim.AdamW(params, lr=lr)
        self.kl_coef = kl_coef

    @torch.no_grad()
    def rollout(self, prompts, reward_fn, max_new_tokens=64):
        self.policy.eval()
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True)
        sequences = self.policy.generate(**batch, max_new_tokens=max_new_tokens, do_sample=True)
        mask = (sequences != self.tokenizer.pad_token_id).long()
        old_logprobs = logprobs_of(self.policy, sequences, mask)
        ref_logprobs = logprobs_of(self.ref_policy, sequences, mask)
        rewards = reward_fn(sequences) - self.kl_coef * (old_logprobs - ref_logprobs).sum(-1)
        return sequences, mask, old_logprobs, rewards

    def update(self, sequences, mask, old_logprobs, rewards, ppo_epochs=4, clip=0.2):
        self.policy.train()
        for _ in range(ppo_epochs):
            logprobs = logprobs_of(self.policy, sequences, mask)
            ratio = torch.exp(logprobs - old_logprobs).mean(-1)
            advantages = rewards - rewards.mean()
            loss = -torch.min(ratio * advantages, ratio.clamp(1 - clip, 1 + clip) * advantages).mean()
            self.optimizer.zero_grad()
            self.accelerator.backward(loss)
            self.optimizer.step()
        return loss.item()

    def train(self, prompt_loader, reward_fn, steps=1000):
        for step, prompts in zip(range(steps), prompt_loader):
            sequences, mask, old_logprobs, rewards = self.rollout(prompts, reward_fn)
            print(step, self.update(sequences, mask, old_logprobs, rewards), rewards.mean().item())
