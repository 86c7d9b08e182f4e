/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "hd-error.h"

G_DEFINE_QUARK (hd-error-quark, hd_error)
