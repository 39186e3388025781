class RunningMeans:
    """Running means of a few named values over an epoch."""

    def __init__(self, names):
        self.names = list(names)
        self.reset()

    def reset(self):
        self.sums = [0.0] * len(self.names)
        self.count = 0

    def update(self, values):
        for i, v in enumerate(values):
            self.sums[i] += v
        self.count += 1

    def means(self):
        return [s / max(self.count, 1) for s in self.sums]
