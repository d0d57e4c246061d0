#!/usr/bin/env python3
"""Symmetrises two directions of Pharaoh word links (as eflomal-align -f/-r writes them) into
one link file for `heed train --guided-alignment`, the way fast_align's `atools -c` does.

Both input files give links as i-j with i a source and j a target word (the reverse file too,
as eflomal writes it). Methods: intersection, union, grow-diag (the intersection grown by
union links that touch a linked neighbour, diagonals included, while either word is unlinked),
grow-diag-final-and (grow-diag, then union links whose two words are both still unlinked).
Usage: tools/symmetrize_links.py FORWARD REVERSE [METHOD] > LINKS   (METHOD: grow-diag)
"""
import sys

NEIGHBOURS = [(-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)]


def parse(line):
    links = set()
    for token in line.split():
        i, j = token.split("-")
        links.add((int(i), int(j)))
    return links


def grow_diag(forward, reverse):
    union = forward | reverse
    links = forward & reverse
    linked_src = {i for i, _ in links}
    linked_tgt = {j for _, j in links}
    grew = True
    while grew:
        grew = False
        for i, j in sorted(links):
            for di, dj in NEIGHBOURS:
                candidate = (i + di, j + dj)
                if candidate in union and candidate not in links and \
                        (candidate[0] not in linked_src or candidate[1] not in linked_tgt):
                    links.add(candidate)
                    linked_src.add(candidate[0])
                    linked_tgt.add(candidate[1])
                    grew = True
    return links, linked_src, linked_tgt


def symmetrize(forward, reverse, method):
    if method == "intersection":
        return forward & reverse
    if method == "union":
        return forward | reverse
    links, linked_src, linked_tgt = grow_diag(forward, reverse)
    if method == "grow-diag-final-and":
        for direction in (forward, reverse):
            for i, j in sorted(direction):
                if i not in linked_src and j not in linked_tgt:
                    links.add((i, j))
                    linked_src.add(i)
                    linked_tgt.add(j)
    return links


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    method = sys.argv[3] if len(sys.argv) == 4 else "grow-diag"
    if method not in ("intersection", "union", "grow-diag", "grow-diag-final-and"):
        sys.exit(f"unknown method {method}")
    with open(sys.argv[1], encoding="utf-8") as fwd, open(sys.argv[2], encoding="utf-8") as rev:
        for number, (f_line, r_line) in enumerate(zip(fwd, rev), 1):
            try:
                links = symmetrize(parse(f_line), parse(r_line), method)
            except ValueError:
                sys.exit(f"{sys.argv[1]}:{number}: not Pharaoh links")
            print(" ".join(f"{i}-{j}" for i, j in sorted(links)))


if __name__ == "__main__":
    main()
