#include "heed/backend/cuda/cublaslt_library.h"

#include <dlfcn.h>

#include <fstream>
#include <string>

#include "heed/core/error.h"

namespace heed {
namespace {

// The soname of the toolkit heed was built with first (the loader's search: RUNPATH,
// LD_LIBRARY_PATH, ld.so.cache), then the toolkit's own folder, where a build tree finds it.
void* open_library() {
  for (const char* name : {HEED_CUBLASLT_SONAME, HEED_CUBLASLT_DIR "/" HEED_CUBLASLT_SONAME})
    if (void* handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)) return handle;
  const char* why = dlerror();
  fail("cuda: cannot load {} (cuBLASLt, the CUDA toolkit's matmul library): {}", HEED_CUBLASLT_SONAME,
       why ? why : "not found");
}

template <typename F>
void look_up(void* handle, const char* name, F& function) {
  function = reinterpret_cast<F>(dlsym(handle, name));
  HEED_CHECK(function != nullptr, "cuda: {} has no function {}: a cuBLASLt older than the one heed was built with",
             HEED_CUBLASLT_SONAME, name);
}

CublasLtLibrary load() {
  void* handle = open_library();  // kept open for the process's lifetime
  CublasLtLibrary lt;
#define HEED_CUBLASLT_LOOK_UP(name) look_up(handle, #name, lt.name);
  HEED_CUBLASLT_FUNCTIONS(HEED_CUBLASLT_LOOK_UP)
#undef HEED_CUBLASLT_LOOK_UP
  return lt;
}

}  // namespace

const CublasLtLibrary& cublaslt() {
  static const CublasLtLibrary library = load();
  return library;
}

bool cublaslt_is_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find("libcublasLt") != std::string::npos) return true;
  return false;
}

}  // namespace heed
