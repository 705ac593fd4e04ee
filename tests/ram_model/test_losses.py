"""ASL, distillation and the loss totals against straightforward reference computations."""

import math

import pytest
import torch

from ram_model.losses import (
    AsymmetricLoss,
    asymmetric_loss,
    distillation_loss,
    ram_plus_total,
    ram_total,
    tag2text_total,
)


def reference_asl(logits, targets, gamma_neg=7.0, gamma_pos=0.0, clip=0.05, eps=1e-8):
    """Element by element, in float64 Python arithmetic."""
    total = 0.0
    for x, y in zip(logits.flatten().tolist(), targets.flatten().tolist()):
        p = 1 / (1 + math.exp(-x))
        if y == 1:
            total += (1 - p) ** gamma_pos * math.log(max(p, eps))
        else:
            p_neg = min(1 - p + clip, 1.0)
            total += (1 - p_neg) ** gamma_neg * math.log(max(p_neg, eps))
    return -total


def test_asl_matches_the_elementwise_reference():
    torch.manual_seed(0)
    logits = torch.randn(4, 11, dtype=torch.float64) * 3
    targets = (torch.rand(4, 11) < 0.3).double()
    got = asymmetric_loss(logits, targets)
    assert got.item() == pytest.approx(reference_asl(logits, targets), rel=1e-6)


def test_asl_module_uses_its_hyper_parameters():
    logits = torch.tensor([[2.0, -1.0, 0.5]])
    targets = torch.tensor([[1.0, 0.0, 0.0]])
    got = AsymmetricLoss(gamma_neg=4, gamma_pos=1, clip=0.0)(logits, targets)
    assert got.item() == pytest.approx(reference_asl(logits, targets, 4, 1, 0.0), rel=1e-6)


def test_asl_ignores_negatives_below_the_clip_margin():
    # p = sigmoid(-5) ~ 0.0067 < clip 0.05: the shifted probability is 1, so no loss at all
    assert asymmetric_loss(torch.tensor([[-5.0]]), torch.tensor([[0.0]])).item() == 0.0


def test_asl_is_a_sum_not_a_mean():
    logits = torch.zeros(2, 3)
    targets = torch.ones(2, 3)
    assert asymmetric_loss(logits, targets).item() == pytest.approx(6 * math.log(2), rel=1e-6)


def test_asl_focusing_weights_carry_no_gradient():
    logits = torch.tensor([[0.3, 1.2, -0.4]], requires_grad=True)
    targets = torch.tensor([[0.0, 0.0, 1.0]])
    asymmetric_loss(logits, targets).backward()
    # reference: d/dx of -w·log(1 - p + clip) with w held constant
    p = torch.sigmoid(logits.detach())
    expected = []
    for i, y in enumerate(targets[0].tolist()):
        pi = p[0, i].item()
        if y == 1:
            expected.append(-(1 - pi))
        else:
            p_neg = 1 - pi + 0.05
            w = (1 - p_neg) ** 7
            expected.append(w * pi * (1 - pi) / p_neg)
    torch.testing.assert_close(logits.grad[0], torch.tensor(expected), rtol=1e-5, atol=1e-8)


def test_distillation_is_mean_absolute_difference_without_teacher_gradient():
    student = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    teacher = torch.tensor([[0.0, 2.5], [3.0, 2.0]], requires_grad=True)
    loss = distillation_loss(student, teacher)
    loss.backward()
    assert loss.item() == pytest.approx((1 + 0.5 + 0 + 2) / 4)
    assert teacher.grad is None


def test_ram_total_rescales_the_tag_loss_to_the_caption_loss():
    loss_tag = torch.tensor(50.0, requires_grad=True)
    loss_t2t = torch.tensor(2.0, requires_grad=True)
    loss_dis = torch.tensor(0.5, requires_grad=True)
    total = ram_total(loss_tag, loss_t2t, loss_dis)
    total.backward()
    assert total.item() == pytest.approx(2.0 + 2.0 + 0.5)
    assert loss_tag.grad.item() == pytest.approx(2.0 / 50.0)  # gradient scaled by the detached ratio
    assert loss_t2t.grad.item() == pytest.approx(1.0)
    assert loss_dis.grad.item() == pytest.approx(1.0)


def test_tag2text_total_has_no_distillation_and_ram_plus_total_is_a_plain_sum():
    assert tag2text_total(torch.tensor(30.0), torch.tensor(3.0)).item() == pytest.approx(6.0)
    assert ram_plus_total(torch.tensor(30.0), torch.tensor(0.5), torch.tensor(2.0)).item() == pytest.approx(32.5)
