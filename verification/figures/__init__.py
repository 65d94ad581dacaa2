"""Convergence demonstrations of the Stein / negotiation core, their numbers and their figures.

``python -m verification.figures negotiation --out docs/figures`` runs, with fixed seeds,

1. SVGD (Eq. 12) on a 2-D Gaussian mixture, compared by MMD with exact samples
   (:mod:`~verification.figures.svgd_gmm`; ``svgd_gmm.png``);
2. negotiated reasoning (Eq. 4, 5, 7) on *Two Modalities*, ``pi*(u) ~ exp(r(u) / alpha)`` with
   ``alpha = 1`` on ``[-10, 10]^3``, with nested, full and empty negotiation sets, every agent
   following the joint score and (nested, empty) the exact Eq. 5 conditional scores, compared
   with exact samples of the target drawn from a fine grid
   (:mod:`~verification.figures.two_modalities`, :mod:`~verification.figures.grid_sampling`;
   ``two_modalities_negotiation.png``);
3. annealed negotiation on *Max of Three* (``alpha`` from large to small) started near the local
   optimum ``(-5, -5, 3)``, for ``s2`` in {1.5, 2, 3}, three ways: every agent following the
   joint score ``d r / d u_i`` at the joint particles (the approximation of the amortized
   Eq. 9 / 13; ``max_of_three_annealed.png``), following the exact Eq. 5 conditional scores,
   the later agents marginalised by quadrature (``max_of_three_conditional.png``; both
   :mod:`~verification.figures.max_of_three`, with the exact marginal of ``u_0`` that explains
   where the particles stop in :mod:`~verification.figures.max_of_three_marginal`), and
   *amortized*: SVNR's own policy step (Eq. 9-10) with the exact reward as critic
   (:mod:`verification.amortized_negotiation`, drawn by
   :mod:`~verification.figures.max_of_three_amortized`; ``max_of_three_amortized.png`` and
   ``max_of_three_amortized_trace.png``);

prints every number, writes them to ``negotiation_numbers.json`` and saves the pictures (joint
scatter plots in the manner of the paper's Fig. 3 and Fig. 5) next to it
(:mod:`~verification.figures.report`; the command line is :mod:`~verification.figures.__main__`).

The experiment functions are imported by ``tests/test_stein.py`` and ``tests/test_negotiation.py``
(which run smaller, fixed-seed versions), so the tests and the pictures share one definition.
matplotlib is imported only when drawing (Agg backend); the measures shared with the amortized
negotiation live below both in :mod:`verification.game_measures` and
:mod:`verification.annealing`.

This package imports nothing on its own: ``import verification.figures.svgd_gmm`` loads only
what the GMM demonstration needs.
"""
