"""The sympy symbols shared by the bound catalogue and the data-model theorems.

Every symbol is declared positive (or non-negative where zero is meaningful) so that
sympy can expand logarithms and take limits without case splits.  Constants that the
papers leave unspecified -- the ones hidden in an ``O(.)`` and the ``C``'s of the
data-model theorems -- are symbols too, never made-up numbers (SPEC §7).
"""

import sympy

# --- stability bounds (SPEC §7 table) -------------------------------------------------
N = sympy.Symbol("N", positive=True)  # number of training samples (= n)
T = sympy.Symbol("T", positive=True)  # number of steps
t = sympy.Symbol("t", positive=True, integer=True)  # 1-based step counter
L = sympy.Symbol("L", positive=True)  # Lipschitz constant of the loss
beta = sympy.Symbol("beta", positive=True)  # smoothness of the loss
gamma = sympy.Symbol("gamma", positive=True)  # strong-convexity modulus
alpha = sympy.Symbol("alpha", positive=True)  # constant step size
c = sympy.Symbol("c", positive=True)  # step-size scale of the c/t schedule
alpha_t = sympy.IndexedBase("alpha", positive=True)  # step size at step t, alpha_t[t]
rho_hat = sympy.Symbol("rho_hat", positive=True)  # min second-moment entry + small constant
rho_breve = sympy.Symbol("rho_breve", positive=True)  # rho_breve <= rho_hat (HomeAdam paper)

# unknown constants of the O(.) entries
C_adam = sympy.Symbol("C_adam", positive=True)
C_srf = sympy.Symbol("C_srf", positive=True)
C_home = sympy.Symbol("C_home", positive=True)
C_srf_conv = sympy.Symbol("C_srf_conv", positive=True)
C_home_conv = sympy.Symbol("C_home_conv", positive=True)

# --- data-model theorems (SPEC §1, §7) ------------------------------------------------
n = sympy.Symbol("n", positive=True)  # training samples
B = sympy.Symbol("B", positive=True)  # effective batch size (full batch: B = n)
d = sympy.Symbol("d", positive=True)  # patch dimension
q = sympy.Symbol("q", positive=True)  # activation power
sigma0 = sympy.Symbol("sigma_0", positive=True)  # initialisation scale
sigma_p = sympy.Symbol("sigma_p", positive=True)  # noise-patch scale
mu_norm = sympy.Symbol("mu_norm", nonnegative=True)  # signal norm ||mu|| (dense model)
p = sympy.Symbol("p", nonnegative=True)  # label-noise rate
lam = sympy.Symbol("lambda", nonnegative=True)  # total weight decay (coupled + decoupled)

# theorem constants: parameters with defaults in theory.data_theorems.DEFAULT_CONSTANTS
C_large = sympy.Symbol("C_large", positive=True)  # large batch: n/B <= C_large
C_minibatch = sympy.Symbol("C_minibatch", positive=True)  # minibatch: n/B >= C log(1/eps)
epsilon = sympy.Symbol("epsilon", positive=True)  # Tang et al.'s target precision
C_small = sympy.Symbol("C_small", positive=True)  # small lambda (Tang Thm 4.1)
C_stall = sympy.Symbol("C_stall", positive=True)  # Adam does not train (Tang Cor 4.3)
C_stall_w = sympy.Symbol("C_stall_w", positive=True)  # AdamW does not train (Cor 4.6)
C_cao_benign = sympy.Symbol("C_cao_benign", positive=True)
C_cao_harmful = sympy.Symbol("C_cao_harmful", positive=True)
C_kou_benign = sympy.Symbol("C_kou_benign", positive=True)
C_kou_harmful = sympy.Symbol("C_kou_harmful", positive=True)

SNR = mu_norm / (sigma_p * sympy.sqrt(d))  # signal-to-noise ratio of the dense model (SPEC §1b)


def substitute(expr: sympy.Expr, values) -> sympy.Expr:
    """``expr.subs(values)`` where keys may be symbols *or their names*.

    Plain ``expr.subs({"L": 1})`` does not touch the positive ``L`` of this module (sympy
    turns the string into a symbol without assumptions, a different symbol); this resolves
    each name to the symbol of that name in ``expr``.  Names ``expr`` does not contain are
    ignored, so one mapping can serve several bounds.
    """
    by_name = {s.name: s for s in expr.free_symbols if isinstance(s, sympy.Symbol)}
    return expr.subs({by_name.get(str(key), key): value for key, value in values.items()})
