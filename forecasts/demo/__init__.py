"""Demo data: resolved practice questions and simulated forecasters, for a fresh install.

Fetch, then compute: ``demo_plan`` is pure (no database) and turns a seed and a moment into
every practice question, its hidden chance, its outcome and its forecasts; ``demo_seed`` writes
the plan through the ordinary services (``forecast_submit``, ``question_resolve``), so the
scores, crowd history and calibration are the ones real forecasts would get.

The practice questions live on their own source document (key ``demo-practice``), their keys
start with ``demo-`` and their titles with ``[Practice]``; they are all resolved, so the open
list keeps showing only real questions.

The simulated world. A question's hidden chance ``q`` of YES is drawn from Beta(1.2, 1.2).
News arrives as a Brownian motion W over the open period (t from 0 to 1) and a residual E ~
N(0, RESIDUAL_VARIANCE) stays unknown until after the close; the outcome is YES when
mu + W(1) + E > 0, with mu chosen so that P(YES) = q. The well-informed probability at t is

    signal(t) = Phi((mu + W(t)) / sqrt(1 - t + RESIDUAL_VARIANCE)),

a martingale: calibrated at every moment, equal to q at the open and sharper as the close
nears. Each demo forecaster reports a distortion of that signal (see ``Behaviour``).
"""
