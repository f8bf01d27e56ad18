# SPDX-License-Identifier: GPL-2.0-only
# Summary of a sample: reads numbers, one a line, already sorted ascending
# (sort -g), and prints "N MEDIAN MIN MAX Q1 Q3 CI_LO CI_HI CI_LEVEL".
# Quantiles interpolate linearly between the two nearest ranks, so an
# even-sized sample's median is the mean of its middle pair. Plain POSIX
# awk: mawk has no asort().
#
# CI_LO and CI_HI bound a distribution-free 95% confidence interval of the
# median, from order statistics: the count of sample values below the true
# median is Binomial(n, 1/2) whatever the distribution, so the interval
# from the j-th smallest to the j-th largest value misses the median with
# probability 2 P(B <= j - 1). j is the largest rank that keeps that under
# 5%; CI_LEVEL is the interval's exact coverage, 1 - 2 P(B <= j - 1). Below
# 6 values no interval reaches 95%: min to max is given, with its lower
# coverage.

function quantile(p,    h, lo)
{
	h = (n - 1) * p
	lo = int(h)
	if (lo + 1 >= n)
		return x[n - 1]
	return x[lo] + (h - lo) * (x[lo + 1] - x[lo])
}

# Sets ci_j (the rank from each end, from 1) and ci_tail (P(B <= ci_j - 1)).
function median_ci(    pmf, i)
{
	pmf = 0.5 ^ n
	ci_tail = pmf
	ci_j = 1
	for (i = 1; 2 * (ci_j + 1) <= n + 1; i++) {
		pmf = pmf * (n - i + 1) / i
		if (ci_tail + pmf > 0.025)
			break
		ci_tail += pmf
		ci_j++
	}
}

NF { x[n++] = $1 + 0 }

END {
	if (n == 0) {
		print "0 0 0 0 0 0 0 0 0"
		exit 1
	}
	median_ci()
	printf "%d %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.4f\n", n,
	       quantile(0.5), x[0], x[n - 1], quantile(0.25), quantile(0.75),
	       x[ci_j - 1], x[n - ci_j], 1 - 2 * ci_tail
}
