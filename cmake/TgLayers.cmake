# The layers of tgc and what each may link: the data flow of
# docs/ARCHITECTURE.md, one direction only. tg_check_layers() (configure time)
# fails when a library links a tgc library not listed here;
# scripts/check-layers.py (a build step) fails when a source file includes a
# header of a library its own may not use. Add a library here when you add one.
set(TG_LAYER_DEPS_TgSupport "")
set(TG_LAYER_DEPS_TgIR TgSupport)
set(TG_LAYER_DEPS_TgPasses TgIR TgSupport)
set(TG_LAYER_DEPS_TgInterpreter TgIR TgSupport)
set(TG_LAYER_DEPS_TgCodegenCommon TgIR TgSupport)
# The passes both backends run on the host; each target adds its own.
set(TG_LAYER_DEPS_TgCodegenHost TgCodegenCommon TgIR TgSupport)
set(TG_LAYER_DEPS_TgCodegenCpu TgCodegenHost TgCodegenCommon TgIR TgSupport)
set(TG_LAYER_DEPS_TgCodegenCuda TgCodegenHost TgCodegenCommon TgIR TgSupport)
set(TG_LAYER_DEPS_TgDistribute TgPasses TgIR TgSupport)
set(TG_LAYER_DEPS_TgDriver TgCodegenCuda TgCodegenCpu TgCodegenHost TgCodegenCommon TgDistribute
    TgPasses TgIR TgSupport)
set(TG_LAYER_DEPS_TgFrontend TgInterpreter TgPasses TgIR TgSupport)
set(TG_LAYER_DEPS_TgCompile TgFrontend TgDriver TgDistribute tgrt TgInterpreter TgPasses
    TgCodegenCuda TgCodegenCpu TgCodegenHost TgCodegenCommon TgIR TgSupport)
# The runtime side. The communicators depend on nothing of ours; libtgrt
# knows them only through Communicator's interface (a header); data and
# weight formats (io/) depend on support/ only.
set(TG_LAYER_DEPS_TgCommunicator "")
set(TG_LAYER_DEPS_tgrt TgCommunicator TgSupport)
set(TG_LAYER_DEPS_TgIO TgSupport)
set(TG_LAYER_DEPS_tgtrain tgrt TgIO TgCommunicator TgSupport)
# libtgrt_cuda implements the table of runtime/DeviceApi.h (a header of
# libtgrt) and is dlopen'ed by libtgrt; it links neither (nor TgSupport:
# it only uses the header-only support/KernelAbi.h).
set(TG_LAYER_DEPS_tgrt_cuda tgrt TgSupport)
# Built only in some configurations (TG_ENABLE_CUDA).
set(TG_OPTIONAL_LAYERS tgrt_cuda)
set(TG_LAYER_DEPS_TgExamples TgFrontend TgInterpreter TgPasses TgIR TgSupport)
# The tgc commands (tools/), a library so the command-line fuzz target links them.
set(TG_LAYER_DEPS_TgcCommands TgDriver TgFrontend tgtrain tgrt TgIO TgCommunicator TgCodegenCuda
    TgCodegenCpu TgCodegenHost TgCodegenCommon TgDistribute TgInterpreter TgPasses TgIR TgSupport)

# The public headers (include/tg/) by the library that implements them.
set(TG_PUBLIC_HEADERS
    Tensor.h=TgSupport Vocabulary.h=TgSupport
    Module.h=TgFrontend Graph.h=TgFrontend Ops.h=TgFrontend Layers.h=TgFrontend
    Optim.h=TgFrontend Interpreter.h=TgFrontend InterpretOptions.h=TgInterpreter
    tg_runtime.h=tgrt Runtime.h=tgrt
    Compile.h=TgCompile)

# Fails the configuration when a tgc library links another tgc library that
# its layer may not use (an upward or sideways link).
function(tg_check_layers)
  get_cmake_property(_vars VARIABLES)
  set(_libs "")
  foreach(_v ${_vars})
    if(_v MATCHES "^TG_LAYER_DEPS_(.+)$")
      list(APPEND _libs ${CMAKE_MATCH_1})
    endif()
  endforeach()
  foreach(_lib ${_libs})
    if(NOT TARGET ${_lib})
      if(_lib IN_LIST TG_OPTIONAL_LAYERS)
        continue() # not built in this configuration
      endif()
      message(FATAL_ERROR "cmake/TgLayers.cmake lists '${_lib}', which is not a target")
    endif()
    get_target_property(_links ${_lib} LINK_LIBRARIES)
    if(NOT _links)
      set(_links "")
    endif()
    foreach(_dep ${_links})
      if(TARGET ${_dep} AND _dep IN_LIST _libs AND NOT _dep IN_LIST TG_LAYER_DEPS_${_lib})
        message(FATAL_ERROR "layering: ${_lib} links ${_dep}, which its layer may not use "
                            "(allowed: ${TG_LAYER_DEPS_${_lib}}; see cmake/TgLayers.cmake)")
      endif()
    endforeach()
  endforeach()
  # Every tgc library must have a layer, and a folder defines at most one
  # library (scripts/check-layers.py maps folder -> library).
  set(_dirs ${PROJECT_SOURCE_DIR})
  while(_dirs)
    list(POP_FRONT _dirs _dir)
    get_property(_subdirs DIRECTORY ${_dir} PROPERTY SUBDIRECTORIES)
    list(APPEND _dirs ${_subdirs})
    get_property(_targets DIRECTORY ${_dir} PROPERTY BUILDSYSTEM_TARGETS)
    set(_dir_libs "")
    foreach(_t ${_targets})
      get_target_property(_type ${_t} TYPE)
      if(NOT _type MATCHES "LIBRARY$")
        continue()
      endif()
      if(NOT _t IN_LIST _libs AND NOT _dir MATCHES "/(tests|bench)(/|$)")
        message(FATAL_ERROR "layering: library ${_t} has no layer in cmake/TgLayers.cmake")
      endif()
      list(APPEND _dir_libs ${_t})
    endforeach()
    list(LENGTH _dir_libs _n)
    if(_n GREATER 1)
      message(FATAL_ERROR "layering: ${_dir} defines ${_dir_libs}: one library per folder")
    endif()
  endwhile()
endfunction()
