# Installs the build tree into a scratch prefix, then configures, builds and runs the
# consumer against it. Invoked by ctest with -DBUILD_DIR= -DSOURCE_DIR= -DWORK_DIR= (and
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
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/package -B ${WORK_DIR}/build
                        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix ${extra} RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()
