"""Concealed allocation: the sealed allocation list, the row a participant takes at enrollment
(its pack code shown, its arm hidden), and audited emergency unblinding."""
