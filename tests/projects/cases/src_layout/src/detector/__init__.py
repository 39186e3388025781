"""Keypoint detection: models and the training engine."""
