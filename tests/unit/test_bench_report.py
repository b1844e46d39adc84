"""What a benchmark result records of its machine: enough to tell two CPUs apart."""

from benchmarks.report import cpu_identity

ZEN3 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 1
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx fma avx2 bmi2

processor\t: 1
model name\t: Something Else
flags\t\t: avx512f
"""

ZEN4 = """processor\t: 0
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
flags\t\t: avx2 avx512f avx512_vnni avx512_bf16 fma
"""


def test_two_cpus_behind_the_same_name_are_told_apart():
    zen3, zen4 = cpu_identity(ZEN3), cpu_identity(ZEN4)
    assert zen3["cpu"] == zen4["cpu"] == "AMD EPYC"
    assert (zen3["cpu_family"], zen3["cpu_model"]) == ("25", "1")
    assert (zen4["cpu_family"], zen4["cpu_model"]) == ("25", "17")
    # only the first processor's block counts; flags in the order VECTOR_FLAGS names them
    assert zen3["cpu_vector_flags"] == ["avx2"]
    assert zen4["cpu_vector_flags"] == ["avx2", "avx512f", "avx512_bf16", "avx512_vnni"]


def test_a_cpuinfo_without_the_fields_says_unknown():
    assert cpu_identity("") == {
        "cpu": "unknown",
        "cpu_family": None,
        "cpu_model": None,
        "cpu_vector_flags": [],
    }
