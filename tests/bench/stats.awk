# SPDX-License-Identifier: GPL-2.0-only
# Summary of a sample: reads numbers, one a line, already sorted ascending
# (sort -g), and prints "N MEDIAN MIN MAX Q1 Q3". Quantiles interpolate
# linearly between the two nearest ranks, so an even-sized sample's median
# is the mean of its middle pair. Plain POSIX awk: mawk has no asort().

function quantile(p,    h, lo)
{
	h = (n - 1) * p
	lo = int(h)
	if (lo + 1 >= n)
		return x[n - 1]
	return x[lo] + (h - lo) * (x[lo + 1] - x[lo])
}

NF { x[n++] = $1 + 0 }

END {
	if (n == 0) {
		print "0 0 0 0 0 0"
		exit 1
	}
	printf "%d %.6f %.6f %.6f %.6f %.6f\n", n, quantile(0.5), x[0],
	       x[n - 1], quantile(0.25), quantile(0.75)
}
