"""Each rule's valid and invalid examples: documentation, and the rule tests' input."""
