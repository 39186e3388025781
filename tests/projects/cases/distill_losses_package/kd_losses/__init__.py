from .hint import *
from .soft_target import *
