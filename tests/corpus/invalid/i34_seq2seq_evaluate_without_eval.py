"""Models the seq2seq tutorial's greedy ``evaluate()``: no_grad, but the decoder's Dropout stays on.

Real pattern: pytorch/tutorials intermediate_source/seq2seq_translation_tutorial.py (versions
whose ``evaluate(encoder, decoder, sentence)`` wrapped decoding in ``torch.no_grad()`` but never
called ``eval()``; ``AttnDecoderRNN`` has ``nn.Dropout(dropout_p)``), run right after
``trainIters``. The encoder (Embedding + GRU) has no mode-dependent layer; the decoder's first
forward of the evaluation is reported. Original code.
"""

import random

import torch
import torch.nn as nn
import torch.nn.functional as F

SOS_token, EOS_token, MAX_LENGTH = 0, 1, 10


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size)

    def forward(self, token, hidden):
        return self.gru(self.embedding(token).view(1, 1, -1), hidden)

    def init_hidden(self):
        return torch.zeros(1, 1, self.hidden_size)


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1, max_length=MAX_LENGTH):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attn = nn.Linear(hidden_size * 2, max_length)
        self.attn_combine = nn.Linear(hidden_size * 2, hidden_size)
        self.dropout = nn.Dropout(dropout_p)
        self.gru = nn.GRU(hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, output_size)

    def forward(self, token, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(token).view(1, 1, -1))
        weights = F.softmax(self.attn(torch.cat((embedded[0], hidden[0]), 1)), dim=1)
        applied = torch.bmm(weights.unsqueeze(0), encoder_outputs.unsqueeze(0))
        output = F.relu(self.attn_combine(torch.cat((embedded[0], applied[0]), 1)).unsqueeze(0))
        output, hidden = self.gru(output, hidden)
        return F.log_softmax(self.out(output[0]), dim=1), hidden, weights


def train_pair(input_tensor, target_tensor, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion):
    encoder_hidden = encoder.init_hidden()
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()
    encoder_outputs = torch.zeros(MAX_LENGTH, encoder.hidden_size)
    for ei in range(input_tensor.size(0)):
        encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
        encoder_outputs[ei] = encoder_output[0, 0]
    decoder_input, decoder_hidden = torch.tensor([[SOS_token]]), encoder_hidden
    loss = 0
    for di in range(target_tensor.size(0)):
        decoder_output, decoder_hidden, _ = decoder(decoder_input, decoder_hidden, encoder_outputs)
        loss += criterion(decoder_output, target_tensor[di])
        decoder_input = target_tensor[di]
    loss.backward()
    encoder_optimizer.step()
    decoder_optimizer.step()
    return loss.item() / target_tensor.size(0)


def train_iters(encoder, decoder, pairs, n_iters, learning_rate=0.01, print_every=1000):
    encoder_optimizer = torch.optim.SGD(encoder.parameters(), lr=learning_rate)
    decoder_optimizer = torch.optim.SGD(decoder.parameters(), lr=learning_rate)
    criterion = nn.NLLLoss()
    print_loss_total = 0.0
    for it in range(1, n_iters + 1):
        input_tensor, target_tensor = random.choice(pairs)
        print_loss_total += train_pair(
            input_tensor, target_tensor, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion
        )
        if it % print_every == 0:
            print(f"{it} {print_loss_total / print_every:.4f}")
            print_loss_total = 0.0


def evaluate(encoder, decoder, input_tensor, max_length=MAX_LENGTH):
    with torch.no_grad():
        encoder_hidden = encoder.init_hidden()
        encoder_outputs = torch.zeros(max_length, encoder.hidden_size)
        for ei in range(input_tensor.size(0)):
            encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
            encoder_outputs[ei] += encoder_output[0, 0]
        decoder_input, decoder_hidden = torch.tensor([[SOS_token]]), encoder_hidden
        decoded = []
        for _ in range(max_length):
            decoder_output, decoder_hidden, _ = decoder(decoder_input, decoder_hidden, encoder_outputs)  # expect: TM102
            top = decoder_output.argmax(1)
            if top.item() == EOS_token:
                break
            decoded.append(top.item())
            decoder_input = top.detach()
        return decoded


def main(pairs, input_words, output_words, hidden_size=256):
    encoder = EncoderRNN(input_words, hidden_size)
    decoder = AttnDecoderRNN(hidden_size, output_words, dropout_p=0.1)
    train_iters(encoder, decoder, pairs, 75000, print_every=5000)
    for input_tensor, _ in random.sample(pairs, 10):
        print(evaluate(encoder, decoder, input_tensor))
