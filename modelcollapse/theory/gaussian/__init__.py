r"""The Gaussian model (Shumailov et al.): a Gaussian refitted to its own samples.

* :mod:`.moments`: exact moments of the fitted covariance and mean under every regime
  (``expected_variance``, ``expected_trace_ratio``, ``variance_moment``, ...), with the
  stationary point under fresh real data;
* :mod:`.accumulate`: the exact factors of the ``Accumulate`` moments;
* :mod:`.log_moments`: moments of log-determinants (``log_chi2_step``,
  ``log_det_moments``);
* :mod:`.collapse_time`: the law of the collapse time (``gaussian_collapse_time``), with
  the passage machinery in :mod:`.passage`;
* :mod:`.schedule`: growing sample sizes.
"""

from .bias import LogDetLaw, log_det_law
from .collapse_time import (
    GaussianCollapseTime,
    gaussian_collapse_time,
)
from .log_moments import (
    log_chi2_step,
    log_det_moments,
)
from .moments import (
    StationaryPoint,
    expected_det_ratio,
    expected_mean_error,
    expected_std,
    expected_trace_ratio,
    expected_variance,
    expected_w2sq,
    stationary_point,
    variance_moment,
)
from .schedule import (
    gaussian_schedule,
    schedule_bounded,
)

__all__ = [
    "GaussianCollapseTime",
    "LogDetLaw",
    "StationaryPoint",
    "expected_det_ratio",
    "expected_mean_error",
    "expected_std",
    "expected_trace_ratio",
    "expected_variance",
    "expected_w2sq",
    "gaussian_collapse_time",
    "gaussian_schedule",
    "log_chi2_step",
    "log_det_law",
    "log_det_moments",
    "schedule_bounded",
    "stationary_point",
    "variance_moment",
]
