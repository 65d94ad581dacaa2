"""Two Modalities training keeps mass near both optima (issue 6; paper Sec. 6, Fig. 3).

The game ``r = max(g_1, g_2)`` has two optima of value 10, at ``(-5, -5, 3)`` (scale
``3 / sqrt(0.8)``) and ``(7, 7, -3)`` (scale 2).  The exact soft-optimal joint policy
``exp(r / alpha)`` puts 76.7% / 17.5% of its mass within distance 2 of them at alpha = 0.1
(:func:`svnr_rl.plots.boltzmann_mass_near_optima`); the squashed target that the policy step
samples (``exp(Q / alpha) prod_d (1 - u_d^2)``, the soft Q-learning tanh correction) puts less
near ``(7, 7, -3)``, the optimum farther from the centre of the box.  Under the earlier preset
(App. F.2 form, bonus 500, ~3k updates) the trained samplers put 0.0% near ``(7, 7, -3)`` on
all 5 seeds; these tests pin the preset of :func:`svnr_rl.config.preset` (Eq. 20 from
alpha = 10 to 0.1, tau = 2000 updates, 4 updates per step, M = 64, 256-unit samplers).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from svnr_core.differential_games import two_modalities
from svnr_rl.agents import make_agent
from svnr_rl.agents.svnr import SVNRAgent
from svnr_rl.config import AlgoConfig, AlphaConfig, apply_overrides, preset
from svnr_rl.envs.registry import make_batched
from svnr_rl.replay import Batch
from svnr_rl.train import train
from verification.amortized_negotiation import ExactGameCritic

OPT_NARROW = (7.0, 7.0, -3.0)


def test_two_modalities_preset_stays_in_the_papers_ranges() -> None:
    """App. F.2: alpha in [0.1, 10], 16..64 particles; Max of Three keeps the defaults."""
    cfg = preset("two-modalities")
    assert cfg.alpha.schedule == "exponential"
    assert 0.1 <= cfg.alpha.alpha_end <= cfg.alpha.alpha_start <= 10.0
    assert 16 <= cfg.algo.num_particles <= 64
    assert cfg.algo.topology == "nested"  # the paper's C_i = {1..i}
    # the Stein update still evaluates the critic on batch_size rows (the AlgoConfig default)
    assert cfg.algo.policy_states * cfg.algo.num_particles == cfg.algo.batch_size
    # updates of a run: 4 per vector step after learning_starts; alpha ends close to its floor
    steps = cfg.train.total_env_steps // cfg.env.num_envs
    updates = (steps - cfg.algo.learning_starts // cfg.env.num_envs) * cfg.algo.updates_per_step
    assert 0.1 < cfg.alpha.value(updates) < 0.15
    other = preset("max-of-three")
    assert other.algo == AlgoConfig()
    assert other.alpha == AlphaConfig()


def test_exact_shares_near_the_optima_with_and_without_the_tanh_factor() -> None:
    """The two references of the report.  Untilted: at small alpha the mass ratio of the two
    optima is that of their Gaussian volumes, ``(3 / sqrt(0.8) / 2)^3 = 4.7``, i.e. about
    82.3% / 17.5% at alpha = 0.05 (docs/results).  The tanh factor ``prod_d (1 - a_d^2)`` is
    0.512 at ``(-0.5, -0.5, 0.3)`` and 0.237 at ``(0.7, 0.7, -0.3)``, so it moves the ratio by
    about 0.512 / 0.237 = 2.16 against ``(7, 7, -3)`` (10% slack: the factor varies across each
    optimum's neighbourhood)."""
    from svnr_rl.plots import boltzmann_mass_near_optima

    def narrow(tilted: bool) -> tuple[float, float]:
        rows = boltzmann_mass_near_optima("two-modalities", 2.0, 0.05, tilted=tilted)
        m = {tuple(round(v) for v in r["optimum"]): r["mass_near"] for r in rows}
        return m[(-5, -5, 3)], m[OPT_NARROW]

    wide, thin = narrow(False)
    wide_t, thin_t = narrow(True)
    assert 0.16 < thin < 0.19
    assert wide + thin > 0.99
    ratio_shift = (wide_t / thin_t) / (wide / thin)
    assert abs(ratio_shift - 0.512 / 0.237) < 0.1 * 0.512 / 0.237
    assert thin_t < thin


@pytest.mark.slow
def test_two_modalities_training_keeps_the_narrow_optimum(tmp_path: Path) -> None:
    """Seed 1 of the preset (about 70 s on one core): at least 5% of the 1000 converged joint
    samples lie near (7, 7, -3) and the test return is at least 9.5 (the issue's bar).

    Under the earlier preset this share was 0.0% on every seed (0-4), so the bound separates
    the two behaviours; seed 1 gave 7.9% with the preset (``python -m svnr_rl study run
    studies/svnr_results.toml``: 4.0-11.8% over seeds 0-4), 5% leaves room for float
    differences.
    """
    cfg = apply_overrides(
        preset("two-modalities"),
        [
            "train.seed=1",
            f'train.out_dir="{tmp_path}"',
            'train.run_name="tm"',
            "train.progress=false",
            "train.tensorboard=false",
        ],
    )
    result = train(cfg)
    summary = json.loads((result.run_dir / "summary.json").read_text())
    near = {tuple(o["optimum"]): o["mass_near"] for o in summary["mass_near_optima"]}
    assert near[OPT_NARROW] >= 0.05
    assert summary["final_test_return_mean"] >= 9.5


@pytest.mark.slow
def test_collapse_is_the_samplers_not_the_critics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Diagnosis of issue 6 (about 10 s): SVNR's policy step with the *exact* reward as critic,
    under the earlier schedule (App. F.2 form, bonus 500, rate 0.004 per update, the 2968 updates
    of a 24k-step run), still drops (7, 7, -3): fewer than 1% of 2000 joint samples end near it
    (0.0% on seeds 0 and 1 when measured), against about 17.5% for ``exp(r / alpha)``.  So the
    learned critic is not what loses the mode; particle negotiation without a sampler network
    keeps both optima (``tests/test_negotiation.py``)."""
    cfg = AlgoConfig()  # the earlier preset's algorithm settings
    alpha = AlphaConfig()  # and its temperature schedule
    env = make_batched("two-modalities", 1)
    agent = make_agent(env.spec, cfg, device=torch.device("cpu"), dtype=torch.float32, seed=0)
    assert isinstance(agent, SVNRAgent)
    monkeypatch.setattr(agent.critic, "q_min", ExactGameCritic(two_modalities(), 10.0).q_min)
    b = cfg.batch_size
    obs = torch.zeros(b, 3, 1)
    state = torch.zeros(b, 1)
    batch = Batch(obs, state, torch.zeros(b, 3, 1), torch.zeros(b), obs, state, torch.ones(b))
    for t in range(2968):
        agent.policy_step(batch, alpha.value(t))
    with torch.no_grad():
        u = agent.sample_particles(obs[:1], agent.static_mask, 2000)[0, :, :, 0]
    x = 10.0 * u.double().numpy()
    near = np.linalg.norm(x - np.asarray(OPT_NARROW), axis=-1) < 2.0
    assert float(near.mean()) < 0.01
