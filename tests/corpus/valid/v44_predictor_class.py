"""Models an inference wrapper that puts its model in eval once and predicts under no_grad.

Pattern from facebookresearch/detectron2 detectron2/engine/defaults.py (``DefaultPredictor``:
``self.model.eval()`` in ``__init__``, ``with torch.no_grad():`` in ``__call__``) and the
``DefaultTrainer.train()`` / ``DefaultTrainer.test()`` methods of the same file, which are not
module mode switches. Original code.
"""

import numpy as np
import torch
import torch.nn.functional as F


class Predictor:
    def __init__(self, build_model, weights_path, input_format="BGR", size=800):
        self.model = build_model()
        self.model.eval()
        state = torch.load(weights_path, map_location="cpu")
        self.model.load_state_dict(state["model"])
        self.input_format = input_format
        self.size = size

    def preprocess(self, image: np.ndarray) -> torch.Tensor:
        if self.input_format == "RGB":
            image = image[:, :, ::-1]
        tensor = torch.as_tensor(image.astype("float32").transpose(2, 0, 1))
        return F.interpolate(tensor[None], size=(self.size, self.size), mode="bilinear")[0]

    def __call__(self, original_image: np.ndarray):
        with torch.no_grad():
            height, width = original_image.shape[:2]
            inputs = {"image": self.preprocess(original_image), "height": height, "width": width}
            return self.model([inputs])[0]

    @torch.inference_mode()
    def predict_batch(self, images):
        inputs = [{"image": self.preprocess(im), "height": im.shape[0], "width": im.shape[1]} for im in images]
        return self.model(inputs)


class Trainer:
    def __init__(self, build_model, loader, lr=0.02):
        self.model = build_model()
        self.loader = loader
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=0.9)

    def train(self, max_iter):
        self.model.train()
        for iteration, batch in zip(range(max_iter), self.loader):
            loss_dict = self.model(batch)
            losses = sum(loss_dict.values())
            self.optimizer.zero_grad()
            losses.backward()
            self.optimizer.step()

    def test(self, predictor, images):
        return [predictor(image) for image in images]
