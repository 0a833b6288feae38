#!/usr/bin/env python3
"""An independent reference for Veneer's bucketing, written from GrowthBook's published algorithm
(growthbook/growthbook packages/sdk-js/src/util.ts, MIT): FNV-1a 32 over UTF-16 code units, hash v2.

Writes Tests/VeneerCoreTests/Fixtures/reference-assignments.json: for synthetic visitors, the variant
that two experiments assign. The Swift tests check the engine against it.
Usage: python3 scripts/reference-bucketing.py > Tests/VeneerCoreTests/Fixtures/reference-assignments.json
"""
import json


def fnv1a32(text):
    value = 0x811C9DC5
    data = text.encode("utf-16-le")
    for index in range(0, len(data), 2):
        value ^= data[index] | (data[index + 1] << 8)
        value = (value * 0x01000193) & 0xFFFFFFFF
    return value


def hash_v2(seed, value):
    return (fnv1a32(str(fnv1a32(seed + value))) % 10000) / 10000


def choose(seed, key, variants):
    n = hash_v2(seed, key)
    start = 0.0
    for name, weight in variants:
        end = start + weight
        if start <= n < end:
            return name
        start = end
    return None


experiments = {
    "checkout-cta": ("checkout-cta:1", [("control", 0.34), ("green", 0.33), ("blue", 0.33)]),
    "checkout-cta-v2": ("checkout-cta-v2:2", [("control", 0.5), ("green", 0.5)]),
}
cases = []
for index in range(60):
    profile = f"profile-{index}-ä✓"
    user = f"user-{index}" if index % 3 == 0 else None
    key = user if user else f"1_{profile}"
    item = {"profileId": profile}
    if user:
        item["userId"] = user
    for selector, (seed, variants) in experiments.items():
        item[selector] = choose(seed, key, variants)
    cases.append(item)
print(json.dumps(cases, ensure_ascii=False, indent=1))
