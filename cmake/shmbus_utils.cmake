# Helpers that set warnings and sanitizers per target (spdlog's cmake/utils.cmake style).

# Warnings for our own targets; -Werror when SHMBUS_WERROR is on (CI turns it on).
function(shmbus_enable_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion -Wnon-virtual-dtor)
  if(SHMBUS_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# SHMBUS_SANITIZE: "" (off), "address" (ASan+UBSan) or "thread" (TSan).
function(shmbus_enable_sanitizer target)
  if(SHMBUS_SANITIZE STREQUAL "address")
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  elseif(SHMBUS_SANITIZE STREQUAL "thread")
    # -Wno-tsan: GCC warns that TSan does not model atomic_thread_fence; the seqlock-style
    # copies that use one are also covered by seq re-checks TSan does see.
    target_compile_options(${target} PRIVATE -fsanitize=thread -fno-omit-frame-pointer -Wno-tsan)
    target_link_options(${target} PRIVATE -fsanitize=thread)
  elseif(NOT SHMBUS_SANITIZE STREQUAL "")
    message(FATAL_ERROR "SHMBUS_SANITIZE must be empty, 'address' or 'thread', not '${SHMBUS_SANITIZE}'")
  endif()
endfunction()

function(shmbus_target_defaults target)
  shmbus_enable_warnings(${target})
  shmbus_enable_sanitizer(${target})
endfunction()
