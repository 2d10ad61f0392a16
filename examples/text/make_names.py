"""Rebuild names.csv from the `names` 0.3.0 package's census files: `python make_names.py FOLDER` (the package's `names/`)."""

import sys
from pathlib import Path


def first_names(path: Path) -> list[str]:
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


def main(folder: Path) -> None:
    female, male = first_names(folder / "dist.female.first"), first_names(folder / "dist.male.first")
    both = set(female) & set(male)  # an ambiguous name would be one text with two labels
    rows = sorted([(n, "female") for n in female if n not in both] + [(n, "male") for n in male if n not in both])
    out = Path(__file__).with_name("names.csv")
    out.write_text("name,sex\n" + "".join(f"{name},{sex}\n" for name, sex in rows))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
