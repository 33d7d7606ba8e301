#!/usr/bin/env python3
"""How much can product text tell about where a series goes next?

A ceiling check for issue #15's "product families that move together",
run before building such a pathway into the model. For every SKU with sales
in the 91 days before the origin, it regresses the log growth of the next
HORIZON days' sales over the last 28 days' on:

  own       the SKU's own recent growth (last 28 days over the 91-day rate);
  +text     that, and the mean recent growth of its K nearest products by
            the encoder's embedding of their text;
  +random   that, and the mean recent growth of K products drawn at random
            (what the text column is worth by chance);
  +words    that, and a flag for titles matching --words (Christmas words
            by default): its coefficient is how much more (log) they grew;
  +oracle   that, and the text neighbours' *actual* growth over the
            horizon (known only afterwards: an upper bound on what any
            reading of the neighbours could give).

It prints R^2 for all such SKUs and for young ones (first sale under 90
days before the origin). Inputs: the transaction lines (Parquet, online-
retail-2010's columns) and the embeddings a workspace keeps
(`cache/embeddings.msgpack`, written by `skuplan similar` or a plan with
launches: product title and price band per text).

    pip install msgpack numpy pandas pyarrow
    python3 tools/analysis/text_neighbours.py \
        --lines ../shared/data/online-retail-2010/transactions.parquet \
        --embeddings WORKSPACE/cache/embeddings.msgpack --origin 2010-10-31
"""

import argparse
import re

import msgpack
import numpy as np
import pandas as pd
import pyarrow.parquet as pq


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lines", required=True)
    ap.add_argument("--embeddings", required=True)
    ap.add_argument("--origin", required=True)
    ap.add_argument("--horizon", type=int, default=28)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument(
        "--words",
        default=r"CHRISTMAS|XMAS|SANTA|ADVENT|REINDEER|SNOW|NATIVITY|BAUBLE",
        help="a regular expression: titles matching it get a flag; its coefficient is printed",
    )
    a = ap.parse_args()

    with open(a.embeddings, "rb") as f:
        _identity, dim, texts, flat = msgpack.unpackb(f.read(), raw=False)
    vectors = np.asarray(flat, dtype=np.float32).reshape(len(texts), dim)
    # A product's text is "TITLE. price band": key on the title.
    by_title = {}
    for i, t in enumerate(texts):
        by_title.setdefault(t.rsplit(". ", 1)[0].strip().upper(), i)

    df = pq.read_table(a.lines).to_pandas()
    df["date"] = pd.to_datetime(df.invoice_date).dt.normalize()
    df = df[df.quantity > 0]
    # skuplan titles a SKU by the first description its lines give.
    titled = df[df.description.notna() & (df.description.astype(str).str.strip() != "")]
    title = titled.groupby("stock_code", sort=False).description.first().astype(str)
    daily = df.groupby(["stock_code", "date"]).quantity.sum().unstack(fill_value=0)
    days = pd.date_range(df.date.min(), df.date.max())
    daily = daily.reindex(columns=days, fill_value=0)
    origin = pd.Timestamp(a.origin)
    cols = daily.columns

    def total(after, upto):
        return daily.loc[:, (cols > after) & (cols <= upto)].sum(axis=1).values

    day = pd.Timedelta(days=1)
    last28 = total(origin - 28 * day, origin)
    rate91 = total(origin - 91 * day, origin) / 91 * 28
    ahead = total(origin, origin + a.horizon * day)

    codes = daily.index
    emb = np.zeros((len(codes), dim), np.float32)
    known = np.zeros(len(codes), bool)
    for j, c in enumerate(codes):
        i = by_title.get(str(title.get(c, "")).strip().upper())
        if i is not None:
            emb[j], known[j] = vectors[i], True
    idx = np.where(known & (rate91 > 0))[0]
    print(
        f"{int((rate91 > 0).sum())} SKUs sold in the 91 days before the origin, "
        f"{len(idx)} of them with an embedded title"
    )
    e = emb[idx] / np.linalg.norm(emb[idx], axis=1, keepdims=True)
    sim = e @ e.T
    np.fill_diagonal(sim, -1.0)
    near = np.argsort(-sim, axis=1)[:, : a.k]
    rand = np.random.default_rng(0).integers(0, len(idx), (len(idx), a.k))

    own = np.log((last28[idx] + 1) / (rate91[idx] + 1))
    target = np.log((ahead[idx] + 1) / (last28[idx] + 1))
    text = own[near].mean(axis=1)
    chance = own[rand].mean(axis=1)
    oracle = target[near].mean(axis=1)
    first = (daily.values[idx] > 0).argmax(axis=1)
    young = (int((origin - days[0]).days) - first) < 90

    words = np.array(
        [1.0 if re.search(a.words, str(title.get(codes[i], "")).upper()) else 0.0 for i in idx]
    )

    def fit(xs, m):
        x = np.column_stack([np.ones(m.sum())] + [v[m] for v in xs])
        b, *_ = np.linalg.lstsq(x, target[m], rcond=None)
        r = target[m] - x @ b
        return 1 - r.var() / target[m].var(), b

    def r2(xs, m):
        return fit(xs, m)[0]

    print(f"origin {a.origin}, next {a.horizon} days, {a.k} nearest by text")
    print("series        n     own   +text  +random  +oracle   +words (coefficient)")
    for name, m in [("all", np.ones(len(idx), bool)), ("young", young)]:
        w_r2, w_b = fit([own, words], m)
        print(
            f"{name:<8} {m.sum():>6}  {r2([own], m):.4f}  {r2([own, text], m):.4f}"
            f"  {r2([own, chance], m):.4f}   {r2([own, oracle], m):.4f}   {w_r2:.4f} ({w_b[2]:+.2f})"
        )
    print(f"{int(words.sum())} titles match --words")


if __name__ == "__main__":
    main()
