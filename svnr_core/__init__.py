"""svnr_core: the verified numerical core of Stein Variational Negotiated Reasoning.

Pure numpy/scipy (plus array-api-compat for the Stein directions); never imports torch.
Modules, one concept each:

* :mod:`svnr_core.games` -- finite cooperative stochastic games (Sec. 2);
* :mod:`svnr_core.soft_bellman` -- soft value, Boltzmann policy, soft Bellman operators,
  soft policy evaluation / value iteration / policy iteration (Eq. 1, 6; Lemma 4.1, 4.2; Thm 4.3);
* :mod:`svnr_core.factorization` -- negotiation sets, nested orders (Thm C.1),
  representation gaps (App. E.8);
* :mod:`svnr_core.reasoning` -- PRO / ERO / consistent reasoning (Def. 2.1-2.3, Thm 3.1, 3.2);
* :mod:`svnr_core.stein` -- kernels, SVGD and message-passing directions, KSD (Eq. 5, 12, 13);
* :mod:`svnr_core.negotiation` -- particle negotiated reasoning (Eq. 4, 7);
* :mod:`svnr_core.conditional_targets` -- exact Eq. 5 conditional scores of the differential
  games by quadrature;
* :mod:`svnr_core.differential_games` -- the Sec. 6 reward landscapes (Two Modalities,
  Max of Three);
* :mod:`svnr_core.schedules` -- the alpha annealing schedules (App. F.2, Eq. 20).
"""

__version__ = "0.1.0"
