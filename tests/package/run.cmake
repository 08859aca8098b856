# Installs the build tree into a scratch prefix, then configures, builds and runs the
# consumer against it twice: the core alone with prometheus-cpp hidden (a consumer of
# shmbus::shmbus must not need it), then with the supervisor component.
# Invoked by ctest with -DBUILD_DIR= -DSOURCE_DIR= -DWORK_DIR= (and
# optionally -DGENERATOR= -DLAUNCHER=).
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
# The generator and compiler launcher (ccache) of the outer build, when it has them: this test
# is among the slowest of the suite, mostly configure and compile.
set(extra "")
if(GENERATOR)
  list(APPEND extra -G ${GENERATOR})
endif()
if(LAUNCHER)
  list(APPEND extra -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()

function(consumer name)
  set(dir ${WORK_DIR}/${name})
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/package -B ${dir}
                          -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix ${extra} ${ARGN}
                  RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "configuring the consumer (${name}) failed: ${rc}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${dir} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "building the consumer (${name}) failed: ${rc}")
  endif()
  execute_process(COMMAND ${dir}/consumer RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "the consumer (${name}) failed: ${rc}")
  endif()
  if(EXISTS ${dir}/supervisor_consumer)
    execute_process(COMMAND ${dir}/supervisor_consumer RESULT_VARIABLE rc)
    if(rc)
      message(FATAL_ERROR "the supervisor consumer (${name}) failed: ${rc}")
    endif()
  endif()
endfunction()

consumer(core -DCMAKE_DISABLE_FIND_PACKAGE_prometheus-cpp=TRUE)
consumer(supervisor -DWITH_SUPERVISOR=ON)
if(NOT EXISTS ${WORK_DIR}/supervisor/supervisor_consumer)
  message(FATAL_ERROR "the supervisor consumer was not built")
endif()
