from .agent import ActorCritic
from .imitation import cloning_step

__all__ = ["ActorCritic", "cloning_step"]
