"""Primal network simplex for the dense transportation problem (exact OT), in numba.

Written from the textbook algorithm (Ahuja, Magnanti & Orlin, "Network Flows", ch. 11)
with the block-search pivot rule described by Bonneel et al. 2011 ("Displacement
interpolation using Lagrangian mass transport"): scan the arcs cyclically in blocks of
about sqrt(#arcs) and enter the most negative reduced cost of the first block that has
one.

Graph: supply nodes ``0 .. n-1`` (supply ``a``), demand nodes ``n .. n+m-1`` (demand
``b``), and an artificial root ``n+m``. Real arc ``k = i * m + j`` goes from ``i`` to
``n + j`` with cost ``C[i, j]`` and is never stored: only the spanning tree is. The
initial tree joins every node to the root by an artificial arc (supply node -> root at
cost 0, root -> demand node at a large cost), which is strongly feasible; the leaving
arc is chosen so that the tree stays strongly feasible (no cycling under degeneracy).

Tree storage, per node ``u`` (not the root): ``parent[u]``, ``pred[u]`` (arc id; real
arcs ``< n*m``, artificial arc of node ``v`` is ``n*m + v``), ``up[u]`` (True when the
arc points from ``u`` to its parent), ``flow[u]`` (flow on ``pred[u]``), ``depth[u]``;
children as doubly linked sibling lists. Potentials ``pi`` make every tree arc's
reduced cost ``c + pi[source] - pi[target]`` zero.
No validation here: ``core.transport`` validates, removes zero weights and rescales C.
"""

import numpy as np

from ._jit import njit


@njit(cache=True, nogil=True, inline="always")
def _arc_ends(k, n, m, nm, root, supply):
    if k < nm:
        return k // m, n + k % m
    v = k - nm
    if supply[v] >= 0.0:
        return v, root
    return root, v


@njit(cache=True, nogil=True, inline="always")
def _arc_cost(k, C, m, nm, art):
    if k < nm:
        return C[k // m, k % m]
    return art[k - nm]


@njit(cache=True, nogil=True, fastmath=True)
def _row_min(c_row, pi_i, pi_b, j0, j1):
    """Smallest reduced cost in a row stretch (vectorized; only used as a filter, the
    exact scan that picks the arc follows when it is below the current best)."""
    mn = np.inf
    for jj in range(j0, j1):
        r = c_row[jj] - pi_b[jj]
        mn = min(mn, r)
    return mn + pi_i - 1e-12


@njit(cache=True, nogil=True)
def _recompute_potentials(C, n, m, nm, root, supply, art, pred, up, first_child,
                          next_sib, pi, depth, stack):
    pi[root] = 0.0
    depth[root] = 0
    top = 0
    stack[top] = root
    top += 1
    while top > 0:
        top -= 1
        u = stack[top]
        c = first_child[u]
        while c >= 0:
            cost = _arc_cost(pred[c], C, m, nm, art)
            if up[c]:
                pi[c] = pi[u] - cost      # arc c -> u: cost + pi[c] - pi[u] = 0
            else:
                pi[c] = pi[u] + cost      # arc u -> c: cost + pi[u] - pi[c] = 0
            depth[c] = depth[u] + 1
            stack[top] = c
            top += 1
            c = next_sib[c]


@njit(cache=True, nogil=True)
def _unlink(u, parent, first_child, next_sib, prev_sib):
    p = parent[u]
    if prev_sib[u] >= 0:
        next_sib[prev_sib[u]] = next_sib[u]
    else:
        first_child[p] = next_sib[u]
    if next_sib[u] >= 0:
        prev_sib[next_sib[u]] = prev_sib[u]
    next_sib[u] = -1
    prev_sib[u] = -1


@njit(cache=True, nogil=True)
def _link(u, p, parent, first_child, next_sib, prev_sib):
    parent[u] = p
    f = first_child[p]
    next_sib[u] = f
    prev_sib[u] = -1
    if f >= 0:
        prev_sib[f] = u
    first_child[p] = u


def allocate(n, m):
    """Work arrays of :func:`network_simplex` (int, float, bool); pass them back
    unchanged between calls to continue the same solve."""
    nn = n + m + 1
    return (np.zeros((9, nn), dtype=np.int64), np.zeros((5, nn)),
            np.zeros((2, nn), dtype=np.bool_))


@njit(cache=True, nogil=True)
def network_simplex(C, a, b, max_pivots, eps, state, ti, tf, tb):
    """Solve min <P, C> s.t. P 1 = a, P^T 1 = b, P >= 0 by primal network simplex.

    ``C`` (n, m) float64 (best scaled to [0, 1]), ``a`` (n,), ``b`` (m,) positive with
    equal sums. ``state`` (5,) int64, zeros on the first call: (status, pivots,
    arcs scanned, next arc, initialized); status 0 = optimal, 1 = ``max_pivots`` pivots
    done in this call (call again with the same ``state`` and work arrays ``ti, tf,
    tb`` from :func:`allocate` to continue), 2 = unbounded (cannot happen for valid
    input). Returns (rows, cols, flows) of the tree's real arcs (the plan's support).
    """
    n, m = C.shape
    nm = n * m
    nn = n + m + 1
    root = n + m
    parent, pred, depth = ti[0], ti[1], ti[2]
    first_child, next_sib, prev_sib = ti[3], ti[4], ti[5]
    stack, path, path_pred = ti[6], ti[7], ti[8]
    supply, flow, pi, path_flow, art = tf[0], tf[1], tf[2], tf[3], tf[4]
    up, path_up = tb[0], tb[1]
    if state[4] == 0:
        supply[:n] = a
        supply[n:root] = -b
        supply[root] = 0.0
        cmax = 0.0
        for i in range(n):
            for j in range(m):
                if abs(C[i, j]) > cmax:
                    cmax = abs(C[i, j])
        big = (cmax + 1.0) * nn
        parent[:] = -1
        pred[:] = -1
        first_child[:] = -1
        next_sib[:] = -1
        prev_sib[:] = -1
        up[:] = False
        flow[:] = 0.0
        for v in range(n + m):
            art[v] = 0.0 if supply[v] >= 0.0 else big
            pred[v] = nm + v
            up[v] = supply[v] >= 0.0
            flow[v] = abs(supply[v])
            _link(v, root, parent, first_child, next_sib, prev_sib)
        state[4] = 1
    # fresh potentials at every call (also removes drift between calls)
    _recompute_potentials(C, n, m, nm, root, supply, art, pred, up, first_child,
                          next_sib, pi, depth, stack)

    n_arcs = nm + n + m
    block = max(int(np.sqrt(n_arcs)), 10)
    next_arc = state[3]
    pivots = 0
    status = 0
    since_refresh = 0
    total_scanned = state[2]
    refresh_every = max(nn, 1000)
    pi_b = pi[n:root]  # view: demand potentials, contiguous
    while True:
        # ---- block search for the entering arc
        best = -eps
        k_in = -1
        scanned = 0
        k = next_arc
        cnt = 0
        while scanned < n_arcs:
            if k < nm:
                i = k // m
                j = k - i * m
                pi_i = pi[i]
                # scan the rest of row i in one vectorizable stretch
                stop = min(m, j + (n_arcs - scanned))
                if _row_min(C[i], pi_i, pi_b, j, stop) < best:
                    for jj in range(j, stop):
                        r = C[i, jj] + pi_i - pi_b[jj]
                        if r < best:
                            best = r
                            k_in = i * m + jj
                step = stop - j
                scanned += step
                cnt += step
                k += step
            else:
                v = k - nm
                if pred[v] != k:  # non-tree artificial arc
                    if supply[v] >= 0.0:
                        r = art[v] + pi[v] - pi[root]
                    else:
                        r = art[v] + pi[root] - pi[v]
                    if r < best:
                        best = r
                        k_in = k
                scanned += 1
                cnt += 1
                k += 1
            if k >= n_arcs:
                k = 0
            if cnt >= block and k_in >= 0:
                break
            if cnt >= block:
                cnt = 0
        total_scanned += scanned
        if k_in < 0:
            # optimal up to rounding: recompute the potentials exactly and check again
            if since_refresh == 0:
                break
            _recompute_potentials(C, n, m, nm, root, supply, art, pred, up, first_child,
                                  next_sib, pi, depth, stack)
            since_refresh = 0
            continue
        next_arc = k
        if pivots >= max_pivots:
            status = 1
            break
        s, t = _arc_ends(k_in, n, m, nm, root, supply)
        # ---- join node (lowest common ancestor of s and t)
        u = s
        w = t
        while u != w:
            if depth[u] > depth[w]:
                u = parent[u]
            elif depth[w] > depth[u]:
                w = parent[w]
            else:
                u = parent[u]
                w = parent[w]
        join = u
        # ---- leaving arc: flow goes join -> ... -> s -> t -> ... -> join
        delta = np.inf
        u_out = -1
        side = 0
        u = s
        while u != join:
            if up[u]:  # arc u -> parent, traversed parent -> u: decreases
                if flow[u] < delta:
                    delta = flow[u]
                    u_out = u
                    side = 1
            u = parent[u]
        u = t
        while u != join:
            if not up[u]:  # arc parent -> u, traversed u -> parent: decreases
                if flow[u] <= delta:
                    delta = flow[u]
                    u_out = u
                    side = 2
            u = parent[u]
        if side == 0:
            status = 2
            break
        # ---- augment
        if delta > 0.0:
            u = s
            while u != join:
                if up[u]:
                    flow[u] -= delta
                else:
                    flow[u] += delta
                u = parent[u]
            u = t
            while u != join:
                if up[u]:
                    flow[u] += delta
                else:
                    flow[u] -= delta
                u = parent[u]
        # ---- re-hang the subtree cut off by the leaving arc under the entering arc
        if side == 1:
            u_in = s
            v_in = t
        else:
            u_in = t
            v_in = s
        L = 0
        u = u_in
        while True:
            path[L] = u
            path_pred[L] = pred[u]
            path_up[L] = up[u]
            path_flow[L] = flow[u]
            L += 1
            if u == u_out:
                break
            u = parent[u]
        for q in range(L):
            _unlink(path[q], parent, first_child, next_sib, prev_sib)
        _link(u_in, v_in, parent, first_child, next_sib, prev_sib)
        pred[u_in] = k_in
        up[u_in] = u_in == s
        flow[u_in] = delta
        for q in range(1, L):
            wq = path[q]
            _link(wq, path[q - 1], parent, first_child, next_sib, prev_sib)
            pred[wq] = path_pred[q - 1]
            up[wq] = not path_up[q - 1]
            flow[wq] = path_flow[q - 1]
        # ---- potentials and depths of the moved subtree
        c_in = _arc_cost(k_in, C, m, nm, art)
        if u_in == s:
            sigma = pi[t] - c_in - pi[s]
        else:
            sigma = c_in + pi[s] - pi[t]
        pi[u_in] += sigma
        depth[u_in] = depth[v_in] + 1
        top = 0
        stack[top] = u_in
        top += 1
        while top > 0:
            top -= 1
            x = stack[top]
            c = first_child[x]
            while c >= 0:
                pi[c] += sigma
                depth[c] = depth[x] + 1
                stack[top] = c
                top += 1
                c = next_sib[c]
        pivots += 1
        since_refresh += 1
        if since_refresh >= refresh_every:
            _recompute_potentials(C, n, m, nm, root, supply, art, pred, up, first_child,
                                  next_sib, pi, depth, stack)
            since_refresh = 0
    state[0] = status
    state[1] += pivots
    state[2] = total_scanned
    state[3] = next_arc
    cnt = 0
    for v in range(n + m):
        if pred[v] < nm:
            cnt += 1
    rows = np.empty(cnt, dtype=np.int64)
    cols = np.empty(cnt, dtype=np.int64)
    flows = np.empty(cnt)
    q = 0
    for v in range(n + m):
        if pred[v] < nm:
            rows[q] = pred[v] // m
            cols[q] = pred[v] % m
            flows[q] = flow[v]
            q += 1
    return rows, cols, flows
