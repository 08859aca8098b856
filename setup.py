"""Builds the `shmbus` Python package: python/shmbus/*.py plus the extension `_shmbus`, which
the project's CMake builds (target _shmbus) for the interpreter running this script.

    /usr/bin/python3 -m pip install . --no-build-isolation [--break-system-packages]

Only Debian packages are used (python3-setuptools, pybind11-dev, cmake, ninja-build); nothing
is fetched. CMake's build tree goes to build-pip/ (build/ is the release build of the repo).
"""

import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
os.makedirs(os.path.join(ROOT, "build-pip"), exist_ok=True)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        out_dir = os.path.dirname(os.path.abspath(self.get_ext_fullpath(ext.name)))
        build_dir = os.path.join(ROOT, "build-pip", "cmake")
        os.makedirs(build_dir, exist_ok=True)
        args = [
            "-DCMAKE_BUILD_TYPE=Release",
            "-DSHMBUS_BUILD_TESTS=OFF", "-DSHMBUS_BUILD_AGENTS=OFF", "-DSHMBUS_BUILD_BENCH=OFF",
            "-DSHMBUS_INSTALL=OFF", "-DSHMBUS_BUILD_PYTHON=ON",
            f"-DPython3_EXECUTABLE={sys.executable}",
            f"-DSHMBUS_PY_OUTPUT_DIR={out_dir}",
        ]
        if shutil.which("ninja"):
            args += ["-G", "Ninja"]
        if shutil.which("ccache"):
            args += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
        subprocess.check_call(["cmake", "-S", ROOT, "-B", build_dir] + args)
        jobs = os.environ.get("SHMBUS_BUILD_JOBS", "2")
        subprocess.check_call(["cmake", "--build", build_dir, "--target", "_shmbus", "-j", jobs])


setup(
    name="shmbus",
    version="0.1.0",
    description="Python agents on the shmbus shared-memory event bus",
    python_requires=">=3.9",
    package_dir={"": "python"},
    packages=["shmbus"],
    package_data={"shmbus": ["*.pyi", "py.typed"]},
    ext_modules=[Extension("shmbus._shmbus", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": "build-pip"}, "egg_info": {"egg_base": "build-pip"}},
    zip_safe=False,
)
